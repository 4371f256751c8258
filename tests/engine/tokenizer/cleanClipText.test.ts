import { describe, expect, it } from 'vitest';
import { cleanClipText } from '../../../main/engine/tokenizer/cleanClipText';

describe('cleanClipText', () => {
  it('folds every run of Unicode whitespace to one space, strips and lowercases', () => {
    expect(cleanClipText('  A   PHOTO\tof \n a Cat!  ')).toBe('a photo of a cat!');
    // No-break, ideographic, line-separator and next-line (U+0085, which JS's \s misses) spaces.
    expect(cleanClipText('a\u00a0b\u3000c\u2028d\u0085e')).toBe('a b c d e');
  });

  it('unescapes HTML twice, as the reference does for web-scraped captions', () => {
    expect(cleanClipText('rock &amp; roll')).toBe('rock & roll');
    expect(cleanClipText('fish &amp;amp; chips')).toBe('fish & chips');
    expect(cleanClipText('&quot;hi&quot; &#39;x&#x27; &lt;3 &gt;')).toBe('"hi" \'x\' <3 >');
    // Legacy entities without ";" decode as Python's html.unescape does; unknown ones stay.
    expect(cleanClipText('&eacute &foo;')).toBe('\u00e9 &foo;');
    // &nbsp; becomes U+00A0, which is whitespace and folds.
    expect(cleanClipText('a&nbsp;&nbsp;b')).toBe('a b');
  });

  it('applies ftfy\'s prompt-relevant fixes: quotes, width, ligatures, control characters, NFC', () => {
    expect(cleanClipText('don\u2019t \u2018x\u2019 \u201cy\u201d \u02bcz')).toBe('don\'t \'x\' "y" \'z');
    expect(cleanClipText('\uff28\uff49\uff01\u3000\uff11\uff12')).toBe('hi! 12');
    expect(cleanClipText('\ufb01re\ufb02y')).toBe('firefly');
    expect(cleanClipText('\ufeffa\u0000b\u200b')).toBe('ab\u200b');
    expect(cleanClipText('e\u0301cole')).toBe('\u00e9cole');
  });

  it('lowercases beyond ASCII', () => {
    expect(cleanClipText('\u00dcBER \u00c9COLE \u0394\u0395\u039b\u03a4\u0391')).toBe('\u00fcber \u00e9cole \u03b4\u03b5\u03bb\u03c4\u03b1');
  });
});
