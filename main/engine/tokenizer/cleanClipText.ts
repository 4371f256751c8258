import { decodeHTML } from 'entities';

/*
 * The reference (OpenAI CLIP's simple_tokenizer, which open_clip and the SD1.x training code use)
 * runs ftfy.fix_text first. ftfy is a large heuristic library (its main job, undoing mojibake, has
 * no place in a typed prompt), so we apply only the parts of its default pipeline that change
 * ordinary typed or pasted prompts, in ftfy's order:
 *   - fix_latin_ligatures ("ﬁ" → "fi"),
 *   - fix_character_width (full-width ASCII and the ideographic space → their ASCII forms),
 *   - uncurl_quotes (’ ‘ ‛ ‚ ʼ → ', “ ” „ ‟ → "), so "don’t" tokenizes like "don't",
 *   - remove_control_chars (C0 controls other than tab/LF/FF/CR, DEL, BOM, bidi/format controls),
 *   - NFC normalization (ftfy's last step; also what Hugging Face's fast CLIP tokenizer does).
 * Not done: mojibake and C1-control repair, terminal escapes (line-break fixes only turn one
 * whitespace into another, which whitespace folding makes moot).
 */
const LIGATURES = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;
const LIGATURE_MAP: Record<string, string> = {
  '\u0132': 'IJ', '\u0133': 'ij', '\u0149': '\u02bcn',
  '\u01c4': 'D\u017d', '\u01c5': 'D\u017e', '\u01c6': 'd\u017e',
  '\u01c7': 'LJ', '\u01c8': 'Lj', '\u01c9': 'lj', '\u01ca': 'NJ', '\u01cb': 'Nj', '\u01cc': 'nj',
  '\u01f1': 'DZ', '\u01f2': 'Dz', '\u01f3': 'dz',
  '\ufb00': 'ff', '\ufb01': 'fi', '\ufb02': 'fl', '\ufb03': 'ffi', '\ufb04': 'ffl', '\ufb05': '\u017ft', '\ufb06': 'st',
};
// ftfy maps every U+FF01..U+FFEF whose NFKC form differs, plus U+3000, to that form.
const WIDE = /[\u3000\uff01-\uffef]/g;
const SINGLE_QUOTES = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTES = /[\u201c-\u201f]/g;
const CONTROL_CHARS =
  /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc\u{1d173}-\u{1d17a}\u{e0000}-\u{e007f}]/gu;

// Python's regex `\s` is exactly \p{White_Space}; JS's `\s` differs (adds U+FEFF, drops U+0085).
const WHITESPACE_RUN = /\p{White_Space}+/gu;
// str.strip() also removes U+001C..U+001F, which str.isspace() counts as whitespace.
const EDGE_SPACE = /^[\p{White_Space}\x1c-\x1f]+|[\p{White_Space}\x1c-\x1f]+$/gu;

function fixText(text: string): string {
  return text
    .replace(LIGATURES, (c) => LIGATURE_MAP[c] ?? c)
    .replace(WIDE, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')))
    .replace(SINGLE_QUOTES, "'")
    .replace(DOUBLE_QUOTES, '"')
    .replace(CONTROL_CHARS, '')
    .normalize('NFC');
}

/**
 * CLIP's text clean-up before pre-tokenization: basic_clean (fix text, HTML-unescape twice so
 * "&amp;amp;" scraped from web captions becomes "&", strip), whitespace_clean (each whitespace
 * run → one space, strip), then lowercase.
 */
export function cleanClipText(text: string): string {
  const unescaped = decodeHTML(decodeHTML(fixText(text)));
  return unescaped.replace(EDGE_SPACE, '').replace(WHITESPACE_RUN, ' ').replace(EDGE_SPACE, '').toLowerCase();
}
