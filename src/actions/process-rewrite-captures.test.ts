/**
 * processRewrite on the real spamd 4.0.1 replies kept in test/fixtures/spamd/: applying the
 * modifications to the original gives spamd's output, up to the documented differences.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gtubeProbe, loadRaw, loadTranscript } from '../../test/support/spamd-transcript.ts';
import type { Modification } from '../filter/decision.ts';
import { type HeaderField, renderMessage } from '../message/message.ts';
import { normalizeRawMessage } from '../message/normalize.ts';
import { parseReply, type SpamdScanReply } from '../scanners/spamd/codec.ts';
import type { SpamdScanVerb } from '../scanners/spamd/protocol.ts';
import { headerClass, type ProcessRewriteOptions, processRewrite } from './process-rewrite.ts';
import { applyModifications, describeModification } from './process-rewrite-apply.ts';

const KEEP: ProcessRewriteOptions = { preserveHeaders: false, preserveBody: false };

/** The reply body of a captured exchange. */
function output(verb: SpamdScanVerb, reply: Buffer): Buffer {
  return (parseReply(verb, reply) as SpamdScanReply).body;
}

/** A raw message as the milter session holds it: header fields and a CRLF body. */
function asMessage(raw: Buffer): { headers: HeaderField[]; body: Buffer } {
  const text = normalizeRawMessage(raw).toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const headers: { name: string; value: string }[] = [];
  for (const line of text.slice(0, split).split('\r\n')) {
    const last = headers.at(-1);
    if (/^[ \t]/.test(line) && last !== undefined) last.value += `\n${line}`;
    else
      headers.push({
        name: line.slice(0, line.indexOf(':')),
        value: line.slice(line.indexOf(':') + 1),
      });
  }
  return {
    headers: headers.map(({ name, value }) => ({ name, value: Buffer.from(value, 'latin1') })),
    body: Buffer.from(text.slice(split + 4), 'latin1'),
  };
}

/** The message without its X-Spam-* fields: what went to spamd when spamd only added those. */
function withoutVerdict(message: { headers: HeaderField[]; body: Buffer }) {
  return { ...message, headers: message.headers.filter((h) => headerClass(h.name) !== 'verdict') };
}

const kinds = (mods: readonly Modification[]) =>
  mods.map((m) => describeModification(m).replace(/ ".*$/s, ''));

describe('processRewrite on captured spamd replies', () => {
  it('ham (PROCESS): reproduced byte for byte', () => {
    const done = output('PROCESS', loadTranscript('spamd-PROCESS-ham.txt').reply);
    const message = withoutVerdict(asMessage(done));
    const mods = processRewrite(message, { kind: 'message', bytes: done }, KEEP);
    assert.deepEqual(kinds(mods), [
      'insert@0 X-Spam-Status',
      'insert@0 X-Spam-Level',
      'insert@0 X-Spam-Checker-Version',
    ]);
    assert.deepEqual(renderMessage(applyModifications(message, mods)), normalizeRawMessage(done));
  });

  it('ham without a final newline: the CRLF the MTA added is not a body change', () => {
    const done = output('PROCESS', loadRaw('spamd-PROCESS-nonl.raw'));
    const message = withoutVerdict(asMessage(Buffer.concat([done, Buffer.from('\n')])));
    const mods = processRewrite(message, { kind: 'message', bytes: done }, KEEP);
    assert.ok(mods.every((m) => m.kind === 'insert-header'));
  });

  it('GTUBE, report_safe 1 (PROCESS): X-Spam-* on top, multipart Content-Type, new body', () => {
    const done = output('PROCESS', loadTranscript('spamd-PROCESS-gtube.txt').reply);
    const message = asMessage(gtubeProbe());
    const mods = processRewrite(message, { kind: 'message', bytes: done }, KEEP);
    assert.deepEqual(kinds(mods), [
      'change Content-Type#1',
      'insert@0 X-Spam-Status',
      'insert@0 X-Spam-Level',
      'insert@0 X-Spam-Flag',
      'insert@0 X-Spam-Checker-Version',
      'replace-body 1668',
    ]);
    const result = applyModifications(message, mods);
    const spamd = asMessage(done);
    assert.deepEqual(
      renderMessage({ headers: [], body: result.body }),
      renderMessage({ headers: [], body: spamd.body }),
    );
    // Every header spamd's copy shares with the original now reads as in spamd's copy (the
    // X-Spam-* block moved to the top)…
    const managed = (h: HeaderField) => headerClass(h.name) !== 'other';
    const sorted = (hs: HeaderField[]) =>
      hs.filter(managed).sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
    assert.deepEqual(sorted(result.headers), sorted(spamd.headers));
    // …and the original's own headers are all still there (Message-ID, Date); no SA Received.
    assert.deepEqual(
      result.headers.filter((h) => !managed(h)).map((h) => h.name),
      ['Date', 'Message-ID'],
    );
  });

  it('GTUBE, report_safe 1 (HEADERS): only the X-Spam-* block, no Content-Type without a body', () => {
    const done = output('HEADERS', loadTranscript('spamd-HEADERS-gtube.txt').reply);
    const mods = processRewrite(asMessage(gtubeProbe()), { kind: 'headers', bytes: done }, KEEP);
    assert.deepEqual(kinds(mods), [
      'insert@0 X-Spam-Status',
      'insert@0 X-Spam-Level',
      'insert@0 X-Spam-Flag',
      'insert@0 X-Spam-Checker-Version',
    ]);
  });

  it('GTUBE, report_safe 0 with CRLF (PROCESS): Subject tagged, report added, body kept', () => {
    const done = output('PROCESS', loadTranscript('spamd-rs0-PROCESS-gtube-crlf.txt').reply);
    const message = asMessage(gtubeProbe());
    const mods = processRewrite(message, { kind: 'message', bytes: done }, KEEP);
    assert.deepEqual(kinds(mods), [
      'change Subject#1',
      'insert@0 X-Spam-Prev-Subject',
      'insert@0 X-Spam-Report',
      'insert@0 X-Spam-Status',
      'insert@0 X-Spam-Level',
      'insert@0 X-Spam-Flag',
      'insert@0 X-Spam-Checker-Version',
    ]);
    const result = applyModifications(message, mods);
    const spamd = asMessage(done);
    const prev = spamd.headers.pop() as HeaderField;
    assert.equal(prev.name, 'X-Spam-Prev-Subject');
    // spamd's message exactly, but X-Spam-Prev-Subject sits with the rest of the block.
    spamd.headers.splice(5, 0, prev);
    assert.deepEqual(renderMessage(result), renderMessage(spamd));
  });
});
