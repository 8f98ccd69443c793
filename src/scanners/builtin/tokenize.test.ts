import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMail } from './parse-mail.ts';
import { tokenize } from './tokenize.ts';

async function tokens(raw: string): Promise<Set<string>> {
  return tokenize(await parseMail(Buffer.from(raw.replaceAll('\n', '\r\n'))));
}

const HEAD = `Received: from relay.example.net ([198.51.100.7]) by mx.example.com; Mon, 2 Sep 2002 11:21:42 -0400
Received: from origin.example.org ([192.0.2.10]) by relay.example.net; Mon, 2 Sep 2002 11:21:40 -0400
Received: from pc ([10.1.2.3]) by origin.example.org; Mon, 2 Sep 2002 11:21:30 -0400
From: "Cheap Deals" <deals@shop.example.org>
To: someone@example.com
Subject: =?utf-8?B?RnJlZSBNb25leQ==?=
Message-ID: <12345.abc@shop.example.org>
X-Spam-Status: Yes, score=99
Delivered-To: someone@example.com
List-Unsubscribe: <mailto:leave@lists.example.net>
X-Priority: 3
`;

describe('tokenize', () => {
  it('prefixes header tokens with the header name and decodes encoded words', async () => {
    const t = await tokens(`${HEAD}\nhello world\n`);
    for (const token of [
      'subject:free',
      'subject:money',
      'from:addr:deals@shop.example.org',
      'from:dom:example.org',
      'from:name:cheap',
      'to:count:1',
      'mid:dom:shop.example.org',
      'mid:shape:9.a',
      'x-priority:=9',
      'hdr:x-priority',
      'hello',
      'world',
    ]) {
      assert.ok(t.has(token), token);
    }
    assert.ok(!t.has('free'), 'a subject word is not a body word');
  });

  it('leaves out verdicts, delivery and mailing-list headers', async () => {
    const t = await tokens(`${HEAD}\nbody\n`);
    const leaked = [...t].filter((x) =>
      /spam-status|delivered-to|list-unsubscribe|score|leave@/.test(x),
    );
    assert.deepEqual(leaked, []);
  });

  it('uses only the earliest Received hops, and counts them', async () => {
    const t = await tokens(`${HEAD}\nbody\n`);
    assert.ok(t.has('rcvd:host:origin.example.org'));
    assert.ok(t.has('rcvd:ip:10.1.2'));
    assert.ok(t.has('rcvd:ip:192.0.2'));
    assert.ok(!t.has('rcvd:ip:198.51.100'), 'the newest hop is the recipient side');
    assert.ok(t.has('rcvd:count:3'));
  });

  it('lower-cases body words, trims punctuation and summarises very long ones', async () => {
    const t = await tokens(
      `${HEAD}\n"Amazing" OFFER!!! costs $100, (really).\n${'x'.repeat(45)}\n`,
    );
    for (const token of ['amazing', 'offer!!!', '$100', 'really', 'skip:x:4'])
      assert.ok(t.has(token), token);
    assert.ok(!t.has('"amazing"') && !t.has('really).'));
  });

  it('decodes base64 and quoted-printable text parts', async () => {
    const raw = `${HEAD}MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

${Buffer.from('secret base64 words').toString('base64')}
--b
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

caf=C3=A9 quoted=
printable
--b--
`;
    const t = await tokens(raw);
    for (const token of ['secret', 'base64', 'words', 'café', 'quotedprintable'])
      assert.ok(t.has(token), token);
  });

  it('reads an HTML-only body as text, with its links and tags as separate tokens', async () => {
    const raw = `${HEAD}Content-Type: text/html

<html><body><p>Visit <a href="http://www.Promo.example.com/buy/now?id=7">our store</a></p>
<script>hiddenword()</script></body></html>
`;
    const t = await tokens(raw);
    for (const token of [
      'visit',
      'store',
      'url:promo.example.com',
      'url:example.com',
      'url:path:buy',
      'html:a',
      'html:p',
      'mime:notext:html',
      'ct:text/html',
    ]) {
      assert.ok(t.has(token), token);
    }
    assert.ok(![...t].some((x) => x.includes('hiddenword')));
    assert.ok(!t.has('href'));
  });

  it('still tokenizes a message postal-mime cannot parse', () => {
    const t = tokenize({
      headers: [{ name: 'subject', value: 'Broken' }],
      text: 'raw words',
      html: '',
      visibleText: 'raw words',
      attachments: [],
      parsed: false,
    });
    assert.ok(t.has('subject:broken') && t.has('raw') && t.has('words'));
  });
});
