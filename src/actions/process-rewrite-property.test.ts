import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { HeaderField } from '../message/message.ts';
import { headerClass, processRewrite } from './process-rewrite.ts';
import { applyModifications } from './process-rewrite-apply.ts';

const NAMES = [
  'X-Spam-Flag',
  'x-spam-flag',
  'X-Spam-Status',
  'Subject',
  'to',
  'Received',
  'Content-Type',
  'MIME-Version',
  'Content-Transfer-Encoding',
  'X-Other',
];
const VALUES = [' a', ' b', ' YES', '', ' ', '\tc', ' d\n\te', ' \xe9t\xe9'];

const fieldArb = fc.record({ name: fc.constantFrom(...NAMES), value: fc.constantFrom(...VALUES) });
const listArb = fc.array(fieldArb, { maxLength: 10 });

const toFields = (list: readonly { name: string; value: string }[]): HeaderField[] =>
  list.map(({ name, value }) => ({ name, value: Buffer.from(value, 'latin1') }));

function render(list: readonly { name: string; value: string }[], body: string): Buffer {
  const lines = list.map(({ name, value }) => `${name}:${value.replaceAll('\n', '\r\n')}\r\n`);
  return Buffer.from(`${lines.join('')}\r\n${body}`, 'latin1');
}

/** A value as compared: whitespace after the colon does not count. */
const norm = (value: Buffer) => value.toString('latin1').replace(/^[ \t]+/, '');

/** Values of one name (case-insensitive), in order, normalised. */
function group(headers: readonly HeaderField[], name: string): string[] {
  return headers.filter((h) => h.name.toLowerCase() === name).map((h) => norm(h.value));
}

describe('processRewrite (property)', () => {
  it('applied in order, it yields spamd’s values per class and never touches the rest', () => {
    fc.assert(
      fc.property(
        listArb,
        listArb,
        fc.constantFrom('same\r\n', 'new\r\n'),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom('top' as const, 'end' as const),
        (before, after, body, preserveHeaders, preserveBody, placement) => {
          const original = { headers: toFields(before), body: Buffer.from('same\r\n') };
          const bytes = render(after, body);
          const mods = processRewrite(
            original,
            { kind: 'message', bytes },
            { preserveHeaders, preserveBody, placement },
          );
          for (const m of mods) {
            if (!('value' in m)) continue;
            const text = Buffer.isBuffer(m.value) ? m.value.toString('latin1') : m.value;
            assert.doesNotMatch(text, /[\r\0]|\n(?![ \t])/);
          }
          const result = applyModifications(original, mods).headers;
          const spamd = toFields(after);
          const bodyReplaced = body !== 'same\r\n' && !preserveBody;
          const isOther = (h: HeaderField) => headerClass(h.name) === 'other';
          assert.deepEqual(result.filter(isOther), original.headers.filter(isOther));
          for (const name of new Set(NAMES.map((n) => n.toLowerCase()))) {
            const was = group(original.headers, name);
            const now = group(spamd, name);
            const got = group(result, name);
            switch (headerClass(name)) {
              case 'verdict':
                assert.deepEqual(got, now, name);
                break;
              case 'rewritable':
                if (preserveHeaders) assert.deepEqual(got, was, name);
                else {
                  assert.deepEqual(got.slice(0, now.length), now, name);
                  assert.deepEqual(got.slice(now.length), was.slice(now.length), name);
                }
                break;
              case 'mime':
                assert.deepEqual(got, bodyReplaced ? now : was, name);
                break;
              case 'other':
                break;
            }
          }
          assert.equal(
            mods.some((m) => m.kind === 'replace-body'),
            bodyReplaced,
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
