import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliScript } from './runCli';

const ROOT = process.cwd();
const BUNDLED = path.join(ROOT, 'models/assets/clip-tokenizer');
const CAT = [49406, 320, 1125, 539, 320, 2368, 49407];

function tokenize(...args: string[]) {
  const r = spawnSync('npx', ['tsx', 'main/cli/tokenize.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function parseLines(stdout: string): number[][] {
  return stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as number[]);
}

/** One line on stderr, naming the problem, and no stack trace. */
function expectOneLineError(stderr: string, mentions: string): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^tokenize: /);
  expect(lines[0]).toContain(mentions);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('npm run tokenize', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pentimento-tokenize-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the 77 ids of the positional arguments joined as one prompt', () => {
    const r = tokenize('a', 'photo', 'of a', 'cat');
    expect(r.code).toBe(0);
    const lines = parseLines(r.stdout);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual([...CAT, ...new Array(70).fill(49407)]);
    expect(r.stderr).toBe('');
  });

  it('prints one line per non-empty line of --file, and warns about a truncated prompt', () => {
    const file = path.join(dir, 'prompts.txt');
    const long = new Array(20).fill('a photo of a cat').join(' ');
    writeFileSync(file, `a photo of a cat\n\n   \nHello, World! 123\r\n${long}\n`);
    const r = tokenize('--file', file);
    expect(r.code).toBe(0);
    const lines = parseLines(r.stdout);
    expect(lines).toHaveLength(3);
    expect(lines[0].slice(0, 7)).toEqual(CAT);
    expect(lines[1].slice(0, 9)).toEqual([49406, 3306, 267, 1002, 256, 272, 273, 274, 49407]);
    expect(lines[2]).toHaveLength(77);
    expect(lines[2][76]).toBe(49407);
    expect(lines[2].slice(1, 6)).toEqual(CAT.slice(1, 6));
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/Prompt 3 has 100 tokens/);
  });

  it('--model DIR reads DIR/tokenizer (an SD2-style folder pads with "!", id 0)', () => {
    const model = path.join(dir, 'sd2');
    mkdirSync(path.join(model, 'tokenizer'), { recursive: true });
    for (const f of ['vocab.json', 'merges.txt']) copyFileSync(path.join(BUNDLED, f), path.join(model, 'tokenizer', f));
    writeFileSync(path.join(model, 'tokenizer', 'special_tokens_map.json'), JSON.stringify({ pad_token: '!' }));
    const r = tokenize('--model', model, 'a photo of a cat');
    expect(r.code).toBe(0);
    expect(parseLines(r.stdout)).toEqual([[...CAT, ...new Array(70).fill(0)]]);
  });

  it('exits 2 with one line for an unknown flag', () => {
    const r = tokenize('--colour', 'red', 'a cat');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expectOneLineError(r.stderr, '--colour');
  });

  it('exits 2 with one line for a missing --file', () => {
    const missing = path.join(dir, 'nope.txt');
    const r = tokenize('--file', missing);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, missing);
  });

  it('exits 2 with one line when the model has no tokenizer folder', () => {
    const model = path.join(dir, 'no-tokenizer');
    mkdirSync(model);
    const r = tokenize('--model', model, 'a cat');
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, path.join(model, 'tokenizer', 'vocab.json'));
  });

  it('a missing --model folder is reported as that, not as a missing vocab.json; a file as not a folder', () => {
    const missing = tokenize('--model', path.join(dir, 'no-model'), 'a cat');
    expect(missing.code).toBe(2);
    expectOneLineError(missing.stderr, `the folder ${path.join(dir, 'no-model')} does not exist`);
    expect(missing.stderr).not.toContain('vocab.json');
    const file = path.join(dir, 'file.png');
    writeFileSync(file, 'x');
    expectOneLineError(tokenize('--model', file, 'a cat').stderr, `${file} is a file, not a model folder`);
  });

  it('reads a relative --file from the caller\'s folder (INIT_CWD), not the package root', async () => {
    writeFileSync(path.join(dir, 'mine.txt'), 'a photo of a cat\n');
    const r = await runCliScript('main/cli/tokenize.ts', ['--file', 'mine.txt'], { initCwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(parseLines(r.stdout)[0].slice(0, 7)).toEqual(CAT);
  });

  it('exits 2 when there is no prompt, or both TEXT and --file', () => {
    const none = tokenize();
    expect(none.code).toBe(2);
    expectOneLineError(none.stderr, 'No prompt');
    const both = tokenize('--file', path.join(dir, 'prompts.txt'), 'a cat');
    expect(both.code).toBe(2);
    expectOneLineError(both.stderr, 'not both');
  });
});
