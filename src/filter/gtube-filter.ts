/**
 * The bootstrap filter: stamps every message with `X-Spamward: <version>` and rejects the GTUBE
 * test string with 550 5.7.1. Enough to prove the whole MTA → milter → MTA path.
 */
import type { Message } from '../message/message.ts';
import type { Decision } from './decision.ts';
import type { MessageFilter } from './filter.ts';

/** The Generic Test for Unsolicited Bulk Email: any scanner treats a body containing it as spam. */
export const GTUBE = Buffer.from(
  'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X',
);

/** The header every message gets. */
export const STAMP_HEADER = 'X-Spamward';

/** Creates the bootstrap filter for Spamward `version`. */
export function createGtubeFilter(version: string): MessageFilter {
  return {
    filter(message: Message): Promise<Decision> {
      if (message.body.includes(GTUBE)) {
        return Promise.resolve({
          verdict: {
            kind: 'reject',
            reply: {
              code: 550,
              enhanced: '5.7.1',
              lines: ['Message rejected as spam (GTUBE test string)'],
            },
          },
          modifications: [],
        });
      }
      return Promise.resolve({
        verdict: { kind: 'accept' },
        modifications: [{ kind: 'add-header', name: STAMP_HEADER, value: version }],
      });
    },
  };
}
