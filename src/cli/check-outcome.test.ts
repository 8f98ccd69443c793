import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../config/schema.ts';
import { messageFromRaw } from '../message/parse-raw.ts';
import { parseAccessMap } from '../policy/access-map.ts';
import { ConnectionError } from '../scanners/errors.ts';
import type { Scanner } from '../scanners/scanner.ts';
import type { Verdict } from '../scanners/verdict.ts';
import type { OutputMode } from './check-args.ts';
import { classifyDecision, type PipeClass, pipeAction } from './check-outcome.ts';
import { explainMessage } from './explain-run.ts';

const RAW = 'From: a@example.org\nSubject: hello\n\nHi Bob,\nsee you.\n';
const INFO = { version: '9.9.9', hostname: 'mx.test' };

function verdict(score: number, action: Verdict['action'] = 'no action'): Verdict {
  return {
    scanner: 'spamd://fake:783',
    score,
    required: 5,
    isSpam: score >= 5,
    action,
    symbols: [],
    addHeaders: [],
    removeHeaders: [],
  };
}

function fake(result: Verdict | Error): Scanner {
  return {
    url: 'spamd://fake:783',
    scan: async () => {
      if (result instanceof Error) throw result;
      return result;
    },
    ping: async () => undefined,
    learn: async () => {
      throw new Error('no learning here');
    },
  };
}

async function classify(config: object, result: Verdict | Error, map?: string) {
  const parsed = ConfigSchema.parse(config);
  const { message, parts } = messageFromRaw(
    Buffer.from(RAW),
    { clientAddress: '198.51.100.7', sender: 'a@example.org', recipients: ['bob@example.net'] },
    parsed.scan.maxScanBytes,
  );
  const explanation = await explainMessage(parsed, message, parts.body, {
    accessMap: map === undefined ? undefined : parseAccessMap(map, 'test.map'),
    scanner: fake(result),
    info: INFO,
    newRef: () => 'REF',
  });
  return classifyDecision(explanation, parsed);
}

describe('classifyDecision: the daemon decision, sorted for a pipe', () => {
  it('ham and tagged spam keep the resulting message; spam carries the configured reply', async () => {
    assert.deepEqual(await classify({}, verdict(1)), {
      class: 'ham',
      message: 'result',
      reply: [],
    });
    assert.deepEqual(await classify({}, verdict(9)), {
      class: 'spam',
      message: 'result',
      reply: ['550 5.7.1 Message rejected as spam (score 9, ref REF)'],
    });
    const quarantined = await classify({ actions: { quarantine: 8 } }, verdict(9));
    assert.equal(quarantined.class, 'spam');
  });

  it('a reject by score becomes tagged spam with the real reply', async () => {
    const out = await classify(
      { actions: { reject: 8, rejectReply: { text: 'No (%{score})' } } },
      verdict(9),
    );
    assert.deepEqual(out, { class: 'spam', message: 'tagged', reply: ['550 5.7.1 No (9)'] });
  });

  it('discard is its own class; a greylist tempfail of ham stays ham, tagged', async () => {
    assert.equal((await classify({ actions: { discard: 8 } }, verdict(9))).class, 'discard');
    const grey = await classify({ actions: { followScanner: true } }, verdict(2, 'greylist'));
    assert.deepEqual(grey, { class: 'ham', message: 'tagged', reply: [] });
    const soft = await classify({ actions: { followScanner: true } }, verdict(6, 'soft reject'));
    assert.equal(soft.class, 'spam');
  });

  it('scanner failures follow the failure policy', async () => {
    const down = new ConnectionError('spamd://fake:783', 'refused');
    const tempfail = await classify({}, down);
    assert.equal(tempfail.class, 'tempfail');
    assert.match(tempfail.reply[0] ?? '', /^451 4\.7\.1 /);
    assert.equal(
      (await classify({ failure: { unavailable: 'reject' } }, down)).class,
      'failed-reject',
    );
    assert.deepEqual(await classify({ failure: { unavailable: 'accept' } }, down), {
      class: 'ham',
      message: 'result',
      reply: [],
    });
  });

  it('refusals by rule leave the message unchanged', async () => {
    const map = 'from:a@example.org REJECT go away\n';
    const out = await classify({ trust: { accessMap: 'test.map' } }, verdict(1), map);
    assert.deepEqual(out, { class: 'refused', message: 'original', reply: ['550 5.7.1 go away'] });
    const rcpt = await classify(
      { trust: { accessMap: 'test.map' } },
      verdict(1),
      'to:bob@example.net REJECT no such user\n',
    );
    assert.equal(rcpt.class, 'refused');
    assert.match(rcpt.reply[0] ?? '', /no such user/);
  });

  it('a dry run changes nothing and is ham whatever the score', async () => {
    const out = await classify({ dryRun: true, actions: { reject: 8 } }, verdict(20));
    assert.deepEqual(out, { class: 'ham', message: 'result', reply: [] });
  });
});

describe('pipeAction: the exit-code table', () => {
  const modes: OutputMode[] = ['filter', 'exitcode', 'reject-text', 'exec'];
  const table: Record<PipeClass, string[]> = {
    ham: ['message 0', 'message 0', 'nothing 0', 'lda'],
    spam: ['message 0', 'message 1', 'reply 1', 'lda'],
    refused: ['message 0', 'message 1', 'reply 1', 'lda'],
    discard: ['message 0', 'message 1', 'reply 1', 'nothing 0'],
    tempfail: ['nothing 75', 'nothing 75', 'reply 75', 'nothing 75'],
    'failed-reject': ['nothing 69', 'nothing 69', 'reply 69', 'nothing 69'],
  };
  for (const [kind, row] of Object.entries(table) as [PipeClass, string[]][]) {
    it(`${kind}: ${row.join(' | ')}`, () => {
      const got = modes.map((mode) => {
        const a = pipeAction(kind, mode);
        return a.runLda ? 'lda' : `${a.write} ${a.exit}`;
      });
      assert.deepEqual(got, row);
    });
  }
});
