import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMail } from './parse-mail.ts';
import { RULES, runRules } from './rules.ts';

const CLEAN_HEADERS: Record<string, string> = {
  Received:
    'from mx.example.org (mx.example.org [192.0.2.10]) by mail.example.com (Postfix) with ESMTP id 1A2B; Mon, 2 Sep 2002 11:21:42 -0400',
  'Received ':
    'from client.example.org ([192.0.2.55]) by mx.example.org; Mon, 2 Sep 2002 11:21:40 -0400',
  From: 'Alice <alice@example.org>',
  To: 'bob@example.com',
  Subject: 'Minutes of Monday meeting',
  Date: 'Mon, 2 Sep 2002 11:21:30 -0400',
  'Message-ID': '<20020902.1@example.org>',
};
const CLEAN_BODY =
  'Hi Bob,\r\n\r\nthe minutes are attached below. See you on Friday.\r\n\r\nAlice\r\n';

/** A message from the clean headers with `changes` applied (null removes a header). */
function message(changes: Record<string, string | null> = {}, body = CLEAN_BODY): Buffer {
  const headers = { ...CLEAN_HEADERS, ...changes };
  const lines = Object.entries(headers)
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([name, value]) => `${name.trim()}: ${value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

async function fired(raw: Buffer): Promise<string[]> {
  return runRules(await parseMail(raw)).map((s) => s.name);
}

const HTML = '<html><body><p>Hello <b>friend</b>, great offer.</p></body></html>';

const CASES: Record<string, Buffer> = {
  MISSING_DATE: message({ Date: null }),
  MISSING_MID: message({ 'Message-ID': null }),
  MIME_HTML_ONLY: message({ 'Content-Type': 'text/html; charset=us-ascii' }, HTML),
  SUBJ_ALL_CAPS: message({ Subject: 'MAKE MONEY FAST NOW' }),
  SUBJ_MOSTLY_CAPS: message({ Subject: 'MAKE MONEY FAST now' }),
  SUBJ_EXCLAIM: message({ Subject: 'Act now!!' }),
  BODY_EXCLAIM: message({}, 'Free!!! Really free!!! Order now!!!\r\n'),
  EMPTY_BODY: message({}, '\r\n'),
  RCVD_FORGED_CHAIN: message({
    'Received ':
      'from client.example.org ([192.0.2.55]) by mx.example.org; Sat, 7 Sep 2002 11:21:40 -0400',
  }),
};

describe('header and body rules', () => {
  it('none fires on a clean message', async () => {
    assert.deepEqual(await fired(message()), []);
  });

  it('every rule has a case below', () => {
    assert.deepEqual(Object.keys(CASES).sort(), RULES.map((r) => r.name).sort());
  });

  for (const [name, raw] of Object.entries(CASES)) {
    it(`${name} fires on a crafted message, alone`, async () => {
      assert.deepEqual(await fired(raw), [name]);
    });
  }

  it('SUBJ_ALL_CAPS ignores short subjects and reply prefixes', async () => {
    assert.deepEqual(await fired(message({ Subject: 'RE: FYI' })), []);
    assert.deepEqual(await fired(message({ Subject: 'Re: MAKE MONEY FAST NOW' })), [
      'SUBJ_ALL_CAPS',
    ]);
  });

  it('RCVD_FORGED_CHAIN also fires on an impossible IP address, and says why', async () => {
    const raw = message({
      'Received ': 'from client ([300.1.2.3]) by mx.example.org; Mon, 2 Sep 2002 11:21:40 -0400',
    });
    const symbols = runRules(await parseMail(raw));
    assert.deepEqual(
      symbols.map((s) => [s.name, s.options]),
      [['RCVD_FORGED_CHAIN', ['a hop names an impossible IP address']]],
    );
  });

  it('EMPTY_BODY does not fire when there is an attachment', async () => {
    const raw = message(
      { 'Content-Type': 'multipart/mixed; boundary="b"', 'MIME-Version': '1.0' },
      '--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n',
    );
    assert.deepEqual(await fired(raw), []);
  });

  it('weights are positive and small: rules tip the balance, they never decide alone', () => {
    for (const rule of RULES) assert.ok(rule.score > 0 && rule.score <= 1, rule.name);
  });
});
