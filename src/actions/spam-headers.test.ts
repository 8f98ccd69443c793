import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCheckReply } from '../scanners/rspamd/reply.ts';
import type { ScanSymbol, Verdict } from '../scanners/verdict.ts';
import { decodeEncodedWords } from './decode-word.ts';
import { FOLD_WIDTH, MAX_LINE_LENGTH } from './fold.ts';
import {
  type RenderedHeader,
  renderSpamHeaders,
  type SpamHeaderOptions,
  spamHeaderModifications,
} from './spam-headers.ts';

const headerFixture = (name: string): string =>
  readFileSync(new URL(`../../test/fixtures/headers/${name}`, import.meta.url), 'utf8');
const rspamdReply = (name: string): Verdict =>
  parseCheckReply(
    readFileSync(new URL(`../../test/fixtures/rspamd/${name}`, import.meta.url)),
    'rspamd://127.0.0.1:11333',
  );

/** `Name: value` blocks of a header fixture (LF line ends, folded lines joined with LF). */
function parseBlock(block: string): RenderedHeader[] {
  const headers: { name: string; value: string }[] = [];
  for (const line of block.split('\n')) {
    if (line === '') continue;
    const last = headers.at(-1);
    if (/^[ \t]/.test(line) && last !== undefined) last.value += `\n${line}`;
    else {
      const colon = line.indexOf(':');
      headers.push({ name: line.slice(0, colon), value: line.slice(colon + 1).replace(/^ /, '') });
    }
  }
  return headers;
}

const headerNamed = (headers: readonly RenderedHeader[], name: string): string | undefined =>
  headers.find((h) => h.name === name)?.value;

/** A rendered header can be sent as it is: 7-bit, every line break folding, no line too long. */
function assertSafe(header: RenderedHeader): void {
  assert.match(header.name, /^[\x21-\x39\x3b-\x7e]+$/);
  assert.match(header.value, /^[\x20-\x7e\t\n]*$/, `${header.name} is 7-bit without CR/NUL`);
  assert.doesNotMatch(
    header.value,
    /\n(?![ \t])/,
    `${header.name}: every LF starts a continuation`,
  );
  header.value.split('\n').forEach((line, i) => {
    const length = (i === 0 ? header.name.length + 2 : 0) + line.length;
    assert.ok(length <= MAX_LINE_LENGTH, `${header.name} line ${i} is ${length} long`);
  });
}

const base = { addHeaders: [], removeHeaders: [] } as const;

/** spamd's GTUBE verdict, as the REPORT verb gives it (rule table order). */
const spamdGtube: Verdict = {
  ...base,
  scanner: 'spamd://127.0.0.1:783',
  score: 1000,
  required: 5,
  isSpam: true,
  action: 'reject',
  symbols: [
    {
      name: 'NO_RECEIVED',
      score: -0,
      description: 'Informational: message has no Received headers',
    },
    { name: 'GTUBE', score: 1000, description: 'BODY: Generic Test for Unsolicited Bulk Email' },
    {
      name: 'NO_RELAYS',
      score: -0,
      description: 'Informational: message was not relayed via SMTP',
    },
  ],
};

const verdict = (
  score: number,
  symbols: readonly ScanSymbol[] = [],
  isSpam = score >= 5,
): Verdict => ({
  ...base,
  scanner: 'spamd://x',
  score,
  required: 5,
  isSpam,
  action: isSpam ? 'reject' : 'no action',
  symbols,
});

const SA: SpamHeaderOptions = {
  profile: 'spamassassin',
  checkerVersion: 'SpamAssassin 4.0.1 (2024-03-25)',
  hostname: 'vm',
  report: true,
  scannerVersion: '4.0.1',
};
const RSPAMD: SpamHeaderOptions = {
  ...SA,
  profile: 'rspamd',
  checkerVersion: 'Spamward 0.1.0',
  report: false,
};

/** Our X-Spam-Status says `autolearn=unavailable`; spamd said what it did. */
const sameAutolearn = (headers: RenderedHeader[]) =>
  headers.map((h) => ({
    ...h,
    value: h.value.replace('autolearn=disabled', 'autolearn=unavailable'),
  }));

describe('renderSpamHeaders, spamassassin profile, against SpamAssassin 4.0.1 output', () => {
  it('GTUBE: the five headers, byte for byte', () => {
    const headers = renderSpamHeaders(spamdGtube, SA);
    assert.deepEqual(headers, sameAutolearn(parseBlock(headerFixture('spamassassin-gtube.hdr'))));
    headers.forEach(assertSafe);
  });

  it('ham with score -0.0: no flag, an empty X-Spam-Level, the tests folded like spamd', () => {
    const ham = verdict(-0, [
      { name: 'NO_RECEIVED', score: -0 },
      { name: 'NO_RELAYS', score: -0 },
    ]);
    const headers = renderSpamHeaders(ham, { ...SA, report: false });
    assert.deepEqual(headers, sameAutolearn(parseBlock(headerFixture('spamassassin-ham.hdr'))));
  });

  it('a 19-rule spam: tests sorted and folded, report lines wrapped like SpamAssassin', () => {
    const expected = parseBlock(headerFixture('spamassassin-corpus-spam.hdr'));
    const report = headerNamed(expected, 'X-Spam-Report') ?? '';
    // The rules as spamd's REPORT gives them: score, name, description, and the details line.
    const symbols: { name: string; score: number; description: string; options?: string[] }[] = [];
    for (const line of report.split('\n').slice(1)) {
      const rule = /^\t\* +(-?[\d.]+) (\S+) (.*)$/.exec(line);
      const more = /^\t\* {6,}(.*)$/.exec(line);
      if (rule)
        symbols.push({ score: Number(rule[1]), name: rule[2] ?? '', description: rule[3] ?? '' });
      else if (more && symbols.length > 0) {
        const last = symbols[symbols.length - 1];
        const text = more[1] ?? '';
        if (last && /^\[.*\]$/.test(text)) last.options = [text.slice(1, -1)];
        else if (last) last.description += ` ${text}`;
      }
    }
    assert.equal(symbols.length, 19);
    const headers = renderSpamHeaders({ ...verdict(18.5, symbols), isSpam: true }, SA);
    headers.forEach(assertSafe);
    assert.equal(headerNamed(headers, 'X-Spam-Level'), headerNamed(expected, 'X-Spam-Level'));
    // `autolearn=unavailable` is longer than spamd's `disabled`, so the last fold moves: compare unfolded.
    const unfold = (value: string | undefined) =>
      (value ?? '').replace(/,\n\t/g, ',').replace(/\n\t/g, ' ');
    assert.equal(
      unfold(headerNamed(headers, 'X-Spam-Status')),
      unfold(headerNamed(expected, 'X-Spam-Status')).replace(
        'autolearn=disabled',
        'autolearn=unavailable',
      ),
    );
    // SpamAssassin indents one continuation with 7 spaces instead of 6 (a quirk of its wrapper).
    assert.equal(
      headerNamed(headers, 'X-Spam-Report'),
      report.replace('*       background', '*      background'),
    );
  });
});

describe('renderSpamHeaders, rspamd profile, against rspamd 3.4 milter_headers output', () => {
  it('greylisted: X-Spamd-Result, X-Spamd-Bar, queue id, action and server as rspamd wrote them', () => {
    const headers = renderSpamHeaders(rspamdReply('rspamd-checkv2-greylisted.json.raw'), {
      ...RSPAMD,
      queueId: '4ABCDEF124',
    });
    const expected = parseBlock(headerFixture('rspamd-greylisted.hdr'));
    for (const name of [
      'X-Spamd-Result',
      'X-Spamd-Bar',
      'X-Rspamd-Queue-Id',
      'X-Rspamd-Action',
      'X-Rspamd-Server',
    ]) {
      assert.equal(headerNamed(headers, name), headerNamed(expected, name), name);
    }
    assert.equal(headerNamed(headers, 'X-Spam'), undefined, 'soft reject is not spam');
  });

  it('a corpus spam: the same symbol lines, the same bar; True because Spamward calls add header spam', () => {
    const headers = renderSpamHeaders(rspamdReply('rspamd-checkv2-spam-corpus.json.raw'), {
      ...RSPAMD,
      queueId: '4ABCDEF125',
    });
    const expected = parseBlock(headerFixture('rspamd-corpus-spam.hdr'));
    const lines = (value: string | undefined) => (value ?? '').split(';\n\t');
    const [ourHead, ...ours] = lines(headerNamed(headers, 'X-Spamd-Result'));
    const [theirHead, ...theirs] = lines(headerNamed(expected, 'X-Spamd-Result'));
    assert.equal(ourHead, 'default: True [12.30 / 15.00]');
    assert.equal(theirHead, 'default: False [12.30 / 15.00]');
    assert.deepEqual([...ours].sort(), [...theirs].sort());
    const scores = ours.map((line) => Number(/\((-?[\d.]+)\)/.exec(line)?.[1]));
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      'highest score first',
    );
    for (const name of ['X-Spamd-Bar', 'X-Rspamd-Queue-Id', 'X-Rspamd-Action', 'X-Rspamd-Server']) {
      assert.equal(headerNamed(headers, name), headerNamed(expected, name), name);
    }
    assert.equal(headerNamed(headers, 'X-Spam'), 'Yes');
    headers.forEach(assertSafe);
  });

  it('GTUBE from rspamd', () => {
    const headers = renderSpamHeaders(rspamdReply('rspamd-checkv2-gtube.json.raw'), {
      ...RSPAMD,
      queueId: 'Q1',
    });
    assert.deepEqual(headers, [
      { name: 'X-Spamd-Result', value: 'default: True [15.00 / 15.00];\n\tGTUBE(0.00)[]' },
      { name: 'X-Spamd-Bar', value: '+++++++++++++++' },
      { name: 'X-Spam', value: 'Yes' },
      { name: 'X-Rspamd-Queue-Id', value: 'Q1' },
      { name: 'X-Rspamd-Action', value: 'reject' },
      { name: 'X-Rspamd-Server', value: 'vm' },
    ]);
  });
});

describe('renderSpamHeaders, whichever scanner scored', () => {
  it('renders a spamd verdict in the rspamd profile', () => {
    const headers = renderSpamHeaders(spamdGtube, { ...RSPAMD, hostname: 'mx1' });
    assert.equal(
      headerNamed(headers, 'X-Spamd-Result'),
      'default: True [1000.00 / 5.00];\n\tGTUBE(1000.00)[];\n\tNO_RECEIVED(-0.00)[];\n\tNO_RELAYS(-0.00)[]',
    );
    assert.equal(headerNamed(headers, 'X-Spamd-Bar'), '+'.repeat(50));
    assert.equal(headerNamed(headers, 'X-Rspamd-Action'), 'reject');
    assert.equal(headerNamed(headers, 'X-Rspamd-Queue-Id'), undefined, 'no queue id given');
  });

  it('renders an rspamd verdict in the spamassassin profile, options as detail lines', () => {
    const headers = renderSpamHeaders(rspamdReply('rspamd-checkv2-greylisted.json.raw'), SA);
    assert.deepEqual(headers, [
      { name: 'X-Spam-Checker-Version', value: 'SpamAssassin 4.0.1 (2024-03-25) on vm' },
      { name: 'X-Spam-Level', value: '' },
      {
        name: 'X-Spam-Status',
        value: 'No, score=0.0 required=15.0 tests=GREYLIST\n\tautolearn=unavailable version=4.0.1',
      },
      {
        name: 'X-Spam-Report',
        value:
          '\n\t*  0.0 GREYLIST No description available.\n\t*      [greylisted, Mon, 23 Nov 2026 09:00:22 GMT, too early]',
      },
    ]);
  });

  it('both: the spamassassin headers, then the rspamd ones', () => {
    const names = renderSpamHeaders(spamdGtube, { ...SA, profile: 'both', queueId: 'Q' }).map(
      (h) => h.name,
    );
    assert.deepEqual(names, [
      'X-Spam-Checker-Version',
      'X-Spam-Flag',
      'X-Spam-Level',
      'X-Spam-Status',
      'X-Spam-Report',
      'X-Spamd-Result',
      'X-Spamd-Bar',
      'X-Spam',
      'X-Rspamd-Queue-Id',
      'X-Rspamd-Action',
      'X-Rspamd-Server',
    ]);
  });

  it('as add-header modifications', () => {
    const mods = spamHeaderModifications(spamdGtube, { ...SA, report: false });
    assert.equal(mods.length, 4);
    assert.deepEqual(mods[1], { kind: 'add-header', name: 'X-Spam-Flag', value: 'YES' });
  });
});

describe('renderSpamHeaders edge cases', () => {
  const sa = (v: Verdict, extra: Partial<SpamHeaderOptions> = {}) =>
    renderSpamHeaders(v, { ...SA, ...extra });
  const rs = (v: Verdict) => renderSpamHeaders(v, RSPAMD);

  it('score 0: empty level, neutral bar, tests=none and no report without symbols', () => {
    const headers = sa(verdict(0));
    assert.equal(headerNamed(headers, 'X-Spam-Level'), '');
    assert.equal(
      headerNamed(headers, 'X-Spam-Status'),
      'No, score=0.0 required=5.0 tests=none autolearn=unavailable\n\tversion=4.0.1',
    );
    assert.equal(headerNamed(headers, 'X-Spam-Report'), undefined);
    assert.equal(headerNamed(rs(verdict(0)), 'X-Spamd-Bar'), '/');
    assert.equal(headerNamed(rs(verdict(0)), 'X-Spamd-Result'), 'default: False [0.00 / 5.00]');
  });

  it('negative scores: no stars, a minus bar, signs kept', () => {
    const v = verdict(-3.72, [{ name: 'WHITELISTED', score: -3.72 }]);
    assert.equal(headerNamed(sa(v), 'X-Spam-Level'), '');
    assert.match(
      headerNamed(sa(v), 'X-Spam-Status') ?? '',
      /^No, score=-3\.7 required=5\.0 tests=WHITELISTED/,
    );
    assert.equal(
      headerNamed(sa(v), 'X-Spam-Report'),
      '\n\t* -3.7 WHITELISTED No description available.',
    );
    assert.equal(headerNamed(rs(v), 'X-Spamd-Bar'), '---');
    assert.match(
      headerNamed(rs(v), 'X-Spamd-Result') ?? '',
      /^default: False \[-3\.72 \/ 5\.00\];\n\tWHITELISTED\(-3\.72\)\[\]$/,
    );
    assert.equal(headerNamed(rs(verdict(-0.5)), 'X-Spamd-Bar'), '/');
    assert.equal(headerNamed(rs(verdict(-1000)), 'X-Spamd-Bar'), '-'.repeat(50));
  });

  it('whole points only, capped at 50; a custom level character', () => {
    assert.equal(headerNamed(sa(verdict(0.99)), 'X-Spam-Level'), '');
    assert.equal(headerNamed(sa(verdict(5.99)), 'X-Spam-Level'), '*****');
    assert.equal(
      headerNamed(sa(verdict(1000), { levelChar: 'x' }), 'X-Spam-Level'),
      'x'.repeat(50),
    );
    assert.equal(headerNamed(rs(verdict(12.3)), 'X-Spamd-Bar'), '+'.repeat(12));
    for (const bad of ['', '**', ' ', '\n', 'é']) {
      assert.throws(() => sa(verdict(1), { levelChar: bad }), RangeError);
    }
  });

  it('flags spam only unless asked; the checker version without a host name', () => {
    assert.equal(headerNamed(sa(verdict(1)), 'X-Spam-Flag'), undefined);
    assert.equal(headerNamed(sa(verdict(1), { flagOnHam: true }), 'X-Spam-Flag'), 'NO');
    const headers = renderSpamHeaders(verdict(1), {
      profile: 'spamassassin',
      checkerVersion: 'Spamward 0.1.0 (spamd 4.0.1)',
      report: false,
    });
    assert.equal(headerNamed(headers, 'X-Spam-Checker-Version'), 'Spamward 0.1.0 (spamd 4.0.1)');
    assert.doesNotMatch(headerNamed(headers, 'X-Spam-Status') ?? '', /version=/);
  });

  it('a huge or broken score stays a plain number', () => {
    assert.match(headerNamed(sa(verdict(1e300)), 'X-Spam-Status') ?? '', /score=1000000000\.0 /);
    assert.match(headerNamed(sa(verdict(Number.NaN)), 'X-Spam-Status') ?? '', /score=0\.0 /);
    assert.equal(
      headerNamed(sa(verdict(Number.POSITIVE_INFINITY)), 'X-Spam-Level'),
      '*'.repeat(50),
    );
  });

  it('200 symbols: every header folded below 78 columns, tests complete and sorted', () => {
    const symbols = Array.from({ length: 200 }, (_, i) => ({
      name: `RULE_${String(199 - i).padStart(3, '0')}`,
      score: (i % 7) - 3,
      description: `Description number ${i} which is long enough to need wrapping somewhere along the line`,
      options: [`option-${i}`],
    }));
    const headers = renderSpamHeaders(verdict(42, symbols), {
      ...SA,
      profile: 'both',
      queueId: 'Q',
    });
    headers.forEach(assertSafe);
    for (const header of headers) {
      header.value.split('\n').forEach((line, i) => {
        const columns =
          (i === 0 ? header.name.length + 2 : 0) + line.replace(/^\t/, ' '.repeat(8)).length;
        assert.ok(columns < FOLD_WIDTH + 8, `${header.name}: ${line}`);
      });
    }
    const tests = /tests=(\S+)/.exec(
      (headerNamed(headers, 'X-Spam-Status') ?? '').replace(/,\n\t/g, ','),
    )?.[1];
    const names = symbols.map((s) => s.name).sort();
    assert.equal(tests, names.join(','));
    assert.equal((headerNamed(headers, 'X-Spamd-Result') ?? '').split(';\n\t').length, 201);
  });

  it('thousands of symbols: the lists are capped and say so', () => {
    const symbols = Array.from({ length: 3000 }, (_, i) => ({
      name: `SYMBOL_NUMBER_${i}`,
      score: 1,
      description: 'x'.repeat(150),
    }));
    const headers = renderSpamHeaders(verdict(3000, symbols), { ...SA, profile: 'both' });
    headers.forEach(assertSafe);
    for (const header of headers)
      assert.ok(header.value.length < 10_000, `${header.name} is ${header.value.length} long`);
    assert.match(headerNamed(headers, 'X-Spam-Status') ?? '', /,\.\.\. autolearn=/);
    assert.match(headerNamed(headers, 'X-Spam-Report') ?? '', /\* \(\d+ more rules not shown\)$/);
    assert.match(
      headerNamed(headers, 'X-Spamd-Result') ?? '',
      /\.\.\.\(\d+ more symbols not shown\)$/,
    );
  });

  it('a very long description is cut; the report still folds', () => {
    const v = verdict(6, [{ name: 'LONG', score: 6, description: 'word '.repeat(2000) }]);
    const report = headerNamed(sa(v), 'X-Spam-Report') ?? '';
    assert.ok(report.length < 400, `${report.length}`);
    assert.match(report, /\.\.\.$/);
    assertSafe({ name: 'X-Spam-Report', value: report });
  });

  it('non-ASCII descriptions and options are RFC 2047-encoded and decode back', () => {
    const v = verdict(6, [
      { name: 'RU_SUBJECT', score: 3, description: 'Тема на русском языке', options: ['Привет'] },
      { name: 'DE_BODY', score: 3, description: 'Body enthält Umlaute: äöü' },
    ]);
    const headers = renderSpamHeaders(v, { ...SA, profile: 'both' });
    headers.forEach(assertSafe);
    const report = headerNamed(headers, 'X-Spam-Report') ?? '';
    assert.match(report, /=\?UTF-8\?/);
    // As a reader sees it: unfolded, decoded, whitespace runs shown as one space. The encoded
    // description is too long for the rule's line, so it wraps onto a `*      ` line.
    const shown = decodeEncodedWords(report.replace(/\n/g, '')).replace(/\s+/g, ' ');
    assert.equal(
      shown,
      ' * 3.0 RU_SUBJECT * Тема на русском языке * [Привет] * 3.0 DE_BODY Body enthält Umlaute: äöü',
    );
    const result = headerNamed(headers, 'X-Spamd-Result') ?? '';
    assert.match(
      result,
      /\n\tRU_SUBJECT\(3\.00\)\[ =\?UTF-8\?B\?[^ ]+\?= \]$/,
      'the name stays readable',
    );
    assert.match(decodeEncodedWords(result), /RU_SUBJECT\(3\.00\)\[ Привет \]/);
  });

  it('CR/LF, NUL and list separators in names, descriptions and options cannot add a header', () => {
    const evil = 'X\r\nBcc: victim@example.com\r\n\r\nbody';
    const v = verdict(9, [
      { name: 'EVIL\r\nX-Spam-Flag: NO', score: 1, description: evil, options: [evil, 'a\0b'] },
      { name: 'A,B C=D', score: 1, description: '\n' },
    ]);
    const headers = renderSpamHeaders(v, {
      ...SA,
      profile: 'both',
      queueId: 'Q\r\nX-Injected: 1',
      hostname: 'h\nX: y',
      checkerVersion: 'v\r\nX: z',
    });
    headers.forEach(assertSafe);
    const all = headers.map((h) => `${h.name}: ${h.value}`).join('\n');
    assert.doesNotMatch(all, /\n(Bcc|X-Spam-Flag: NO|X-Injected|X:)/);
    assert.match(
      headerNamed(headers, 'X-Spam-Status') ?? '',
      /tests=A_B_C_D,\n?\t?EVIL__X-Spam-Flag:_NO /,
    );
    assert.equal(headerNamed(headers, 'X-Rspamd-Queue-Id'), 'Q X-Injected: 1');
  });

  it('a name seen twice is listed once', () => {
    const v = verdict(2, [
      { name: 'A', score: 1 },
      { name: 'A', score: 1 },
    ]);
    assert.match(headerNamed(sa(v), 'X-Spam-Status') ?? '', /tests=A autolearn/);
  });
});
