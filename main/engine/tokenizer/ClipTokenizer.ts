import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PentimentoError, badArgument } from '../errors';
import { byteLevelAlphabet } from './byteLevelAlphabet';
import { cleanClipText } from './cleanClipText';

/** A prompt as the text encoder takes it: always `maxLength` ids. */
export interface ClipEncoding {
  /** bos, content tokens (truncated to fit), eos, then pad ids: exactly `maxLength` of them */
  ids: number[];
  /** content tokens before truncation (the "n" of the UI's n/75) */
  tokenCount: number;
  truncated: boolean;
}

export interface ClipSpecialTokens {
  bos: string;
  eos: string;
  pad: string;
  unk: string;
}

export interface ClipTokenizerOptions {
  /** token → id, as in vocab.json */
  vocab: Readonly<Record<string, number>>;
  /** merge rules in priority order, each "left right" as in merges.txt (no header line) */
  merges: readonly string[];
  special?: Partial<ClipSpecialTokens>;
  /** ids per prompt including bos and eos (CLIP's text encoder has 77 positions) */
  maxLength?: number;
}

const DEFAULT_SPECIAL: ClipSpecialTokens = {
  bos: '<|startoftext|>',
  eos: '<|endoftext|>',
  pad: '<|endoftext|>',
  unk: '<|endoftext|>',
};
const DEFAULT_MAX_LENGTH = 77;
const END_OF_WORD = '</w>';
const utf8 = new TextEncoder();

// CLIP's pre-tokenizer (OpenAI simple_tokenizer.py), case-insensitive: special tokens, English
// contractions, letter runs, single digits (so "1920" is four tokens), other non-space runs.
// Python's regex `\s` is \p{White_Space}; JS's `\s` is not quite, hence the explicit class.
const PRE_TOKEN =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\p{White_Space}\p{L}\p{N}]+/giu;

// Words seen before skip BPE; a long-running app sees many prompts, so the cache is bounded.
const CACHE_LIMIT = 20_000;

/**
 * CLIP's byte-level BPE tokenizer (as in SD1.x/SD2.x diffusers `tokenizer/` folders):
 * clean text → split into words → each word's UTF-8 bytes as alphabet characters, the last
 * one marked end-of-word → apply merges lowest rank first → vocabulary ids.
 */
export class ClipTokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  private readonly unkId: number;
  private readonly encoder: Map<string, number>;
  private readonly decoder: Map<number, string>;
  private readonly mergeRanks: Map<string, number>;
  private readonly specialIds: Map<string, number>;
  private readonly cache = new Map<string, string[]>();

  constructor(options: ClipTokenizerOptions) {
    this.encoder = new Map(Object.entries(options.vocab));
    this.decoder = new Map();
    for (const [token, id] of this.encoder) this.decoder.set(id, token);
    this.mergeRanks = new Map();
    options.merges.forEach((pair, rank) => {
      if (!this.mergeRanks.has(pair)) this.mergeRanks.set(pair, rank);
    });

    const special = { ...DEFAULT_SPECIAL, ...options.special };
    const idOf = (role: keyof ClipSpecialTokens) => {
      const id = this.encoder.get(special[role]);
      if (id === undefined) {
        throw new PentimentoError('BAD_MODEL', `The ${role} token "${special[role]}" is not in the vocabulary.`);
      }
      return id;
    };
    this.bosId = idOf('bos');
    this.eosId = idOf('eos');
    this.padId = idOf('pad');
    this.unkId = idOf('unk');
    this.specialIds = new Map([
      [special.bos, this.bosId],
      [special.eos, this.eosId],
    ]);

    this.maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 3) {
      throw badArgument(`maxLength must be an integer of at least 3 (bos, one token, eos); got ${options.maxLength}.`);
    }
  }

  /**
   * Reads a diffusers `tokenizer/` folder: vocab.json and merges.txt, and when present
   * tokenizer_config.json / special_tokens_map.json for the special tokens (SD2 pads with "!")
   * and model_max_length.
   */
  static fromFolder(dir: string): ClipTokenizer {
    const read = (name: string) => {
      const file = path.join(dir, name);
      try {
        return readFileSync(file, 'utf8');
      } catch (e) {
        const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${(e as Error).message})`;
        throw new PentimentoError('BAD_MODEL', `Tokenizer file ${file} ${reason}; the tokenizer folder needs vocab.json and merges.txt.`);
      }
    };
    const parseJson = (name: string, text: string): unknown => {
      try {
        return JSON.parse(text);
      } catch (e) {
        throw new PentimentoError('BAD_MODEL', `Tokenizer file ${path.join(dir, name)} is not valid JSON (${(e as Error).message}).`);
      }
    };

    const vocab = parseJson('vocab.json', read('vocab.json'));
    if (!isVocab(vocab)) {
      throw new PentimentoError('BAD_MODEL', `Tokenizer file ${path.join(dir, 'vocab.json')} must map token strings to integer ids.`);
    }
    const merges = parseMerges(read('merges.txt'), path.join(dir, 'merges.txt'));

    // special_tokens_map.json is written alongside and wins over tokenizer_config.json, as in
    // transformers; either may be absent.
    const configs = ['tokenizer_config.json', 'special_tokens_map.json']
      .filter((name) => existsSync(path.join(dir, name)))
      .map((name) => asRecord(parseJson(name, read(name))));
    const special: Partial<ClipSpecialTokens> = {};
    let maxLength: number | undefined;
    for (const config of configs) {
      for (const role of ['bos', 'eos', 'pad', 'unk'] as const) {
        const token = tokenContent(config[`${role}_token`]);
        if (token !== undefined) special[role] = token;
      }
      const m = config.model_max_length;
      // transformers writes 1e30 for "no limit"; CLIP's position table fixes 77 then.
      if (typeof m === 'number' && Number.isInteger(m) && m >= 3 && m <= 4096) maxLength = m;
    }
    try {
      return new ClipTokenizer({ vocab, merges, special, maxLength });
    } catch (e) {
      if (e instanceof PentimentoError) {
        throw new PentimentoError('BAD_MODEL', `Tokenizer folder ${dir}: ${e.message}`);
      }
      throw e;
    }
  }

  /** The most content tokens a prompt keeps (bos and eos take two of maxLength). */
  get maxContentTokens(): number {
    return this.maxLength - 2;
  }

  /** Content tokens (vocabulary strings, e.g. "cat</w>") without bos/eos. */
  tokenize(text: string): string[] {
    const tokens: string[] = [];
    for (const word of cleanClipText(text).match(PRE_TOKEN) ?? []) {
      if (this.specialIds.has(word)) tokens.push(word);
      else tokens.push(...this.bpe(word));
    }
    return tokens;
  }

  encode(text: string): ClipEncoding {
    const content = this.tokenize(text).map((t) => this.encoder.get(t) ?? this.unkId);
    const kept = content.slice(0, this.maxContentTokens);
    const ids = [this.bosId, ...kept, this.eosId];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return { ids, tokenCount: content.length, truncated: content.length > kept.length };
  }

  /**
   * Text of the content ids: a leading bos is dropped and everything from the first eos on is
   * padding. End-of-word marks become spaces, so punctuation comes back space-separated
   * ("hello , world"), as in the reference.
   */
  decode(ids: readonly number[]): string {
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (i === 0 && id === this.bosId) continue;
      if (id === this.eosId) break;
      const token = this.decoder.get(id);
      if (token === undefined) throw badArgument(`Token id ${id} is not in the vocabulary (0..${this.decoder.size - 1}).`);
      tokens.push(token);
    }
    const bytes: number[] = [];
    for (const ch of tokens.join('')) {
      const b = byteLevelAlphabet.charToByte.get(ch);
      if (b === undefined) bytes.push(...utf8.encode(ch));
      else bytes.push(b);
    }
    return new TextDecoder('utf-8').decode(Uint8Array.from(bytes)).replaceAll(END_OF_WORD, ' ').trim();
  }

  /** One pre-token → its BPE symbols (reference: simple_tokenizer.py `bpe`). */
  private bpe(word: string): string[] {
    const cached = this.cache.get(word);
    if (cached) return cached;

    const chars = Array.from(utf8.encode(word), (b) => byteLevelAlphabet.byteToChar[b]);
    let symbols = chars.slice(0, -1);
    symbols.push(chars[chars.length - 1] + END_OF_WORD);

    while (symbols.length > 1) {
      let best: string | undefined;
      let bestRank = Infinity;
      for (let i = 0; i < symbols.length - 1; i++) {
        const pair = `${symbols[i]} ${symbols[i + 1]}`;
        const rank = this.mergeRanks.get(pair);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = pair;
        }
      }
      if (best === undefined) break;
      // Merge every occurrence of the best pair, left to right.
      const [left, right] = best.split(' ');
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i < symbols.length - 1 && symbols[i] === left && symbols[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else {
          merged.push(symbols[i]);
        }
      }
      symbols = merged;
    }

    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, symbols);
    return symbols;
  }
}

function isVocab(v: unknown): v is Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const id of Object.values(v)) if (!Number.isInteger(id) || id < 0) return false;
  return Object.keys(v).length > 0;
}

function parseMerges(text: string, file: string): string[] {
  const merges: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '' || (i === 0 && line.startsWith('#version'))) continue;
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new PentimentoError('BAD_MODEL', `Tokenizer file ${file} line ${i + 1} is not a merge rule "left right": ${JSON.stringify(line.slice(0, 80))}.`);
    }
    merges.push(line);
  }
  if (merges.length === 0) throw new PentimentoError('BAD_MODEL', `Tokenizer file ${file} has no merge rules.`);
  return merges;
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** A special token is written either as a string or as an AddedToken object { content, … }. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const content = asRecord(v).content;
  return typeof content === 'string' ? content : undefined;
}
