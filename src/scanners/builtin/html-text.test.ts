import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeReferences, htmlToText } from './html-text.ts';

describe('htmlToText', () => {
  it('keeps the visible words and drops tags, scripts, styles and comments', () => {
    const text = htmlToText(
      '<html><head><title>T</title><style>p{color:red}</style></head><body>' +
        '<p>Buy <b>now</b>!</p><script>var x = "hidden";</script><!-- secret -->' +
        '<div>Click <a href="http://x.example/">here</a></div></body></html>',
    );
    assert.match(text, /Buy now!/);
    assert.match(text, /Click here/);
    for (const gone of ['color', 'hidden', 'secret', 'href', '<', 'T\n']) {
      assert.ok(!text.includes(gone), `${gone} in ${JSON.stringify(text)}`);
    }
  });

  it('turns block tags into line breaks so words do not run together', () => {
    assert.deepEqual(htmlToText('one<br>two<p>three</p>').split(/\s+/).filter(Boolean), [
      'one',
      'two',
      'three',
    ]);
  });

  it('survives an unclosed comment or tag', () => {
    assert.equal(htmlToText('visible <!-- never closed').trim(), 'visible');
    assert.equal(htmlToText('a <b').trim(), 'a <b');
  });
});

describe('decodeReferences', () => {
  it('decodes named, decimal and hex references', () => {
    assert.equal(decodeReferences('&lt;a&gt; &amp; &#36;5 &#x41;&nbsp;&EURO;'), '<a> & $5 A €');
  });

  it('turns unknown names and invalid code points into spaces', () => {
    assert.equal(decodeReferences('x&bogus;y&#0;z&#xD800;w'), 'x y z w');
  });
});
