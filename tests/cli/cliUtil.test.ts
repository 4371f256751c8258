import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkOutputPng, parseCliArgs, resolveUserPath } from '../../main/cli/cliUtil';

const OPTIONS = {
  strength: { type: 'string' },
  seed: { type: 'string', short: 's' },
  prompt: { type: 'string' },
  json: { type: 'boolean' },
} as const;

let tmp: string;
beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-cliutil-')));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function errorOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

describe('parseCliArgs', () => {
  it('takes a negative number after a string option as its value (long and short forms)', () => {
    const { values } = parseCliArgs(['--strength', '-0.1', '-s', '-1', '--prompt', '-.5'], OPTIONS);
    expect(values).toEqual({ strength: '-0.1', seed: '-1', prompt: '-.5' });
    expect(parseCliArgs(['--seed', '-1e3'], OPTIONS).values.seed).toBe('-1e3');
  });

  it('still treats a dash word after a string option as a missing value, in one line', () => {
    const e = errorOf(() => parseCliArgs(['--prompt', '--json'], OPTIONS));
    expect(e.code).toBe('BAD_ARGUMENT');
    expect(e.message).not.toContain('\n');
    expect(e.message).toMatch(/--prompt is followed by another option, not a value; .*--prompt=VALUE/);
    expect(errorOf(() => parseCliArgs(['--prompt'], OPTIONS)).message).toBe('--prompt needs a value; see --help.');
  });

  it('refuses a flag given twice (the last value was kept silently); repeatable flags may repeat', () => {
    const twice = errorOf(() => parseCliArgs(['--prompt', 'first', '--prompt', 'second'], OPTIONS));
    expect(twice).toMatchObject({ code: 'BAD_ARGUMENT', message: '--prompt is given twice; give it once.' });
    // The short form counts as the same flag.
    expect(errorOf(() => parseCliArgs(['--seed', '1', '-s', '2'], OPTIONS)).message).toBe('--seed is given twice; give it once.');
    const repeatable = parseCliArgs(['--control', 'a', '--control', 'b'], { control: { type: 'string', multiple: true } });
    expect(repeatable.values.control).toEqual(['a', 'b']);
    expect(repeatable).not.toHaveProperty('tokens');
  });

  it('leaves arguments after -- alone', () => {
    const { positionals } = parseCliArgs(['--', '--strength', '-1'], OPTIONS);
    expect(positionals).toEqual(['--strength', '-1']);
  });

  it('says "unknown option --foo; see --help", with close matches when there are any', () => {
    const unknown = errorOf(() => parseCliArgs(['--foo'], OPTIONS));
    expect(unknown).toMatchObject({ code: 'BAD_ARGUMENT', message: 'unknown option --foo; see --help.' });
    expect(errorOf(() => parseCliArgs(['--promt', 'x'], OPTIONS)).message).toBe('unknown option --promt (did you mean --prompt?); see --help.');
    expect(errorOf(() => parseCliArgs(['--str=0.5'], OPTIONS)).message).toBe('unknown option --str (did you mean --strength?); see --help.');
    // Node's own text suggested a positional after `--` and had an unbalanced quote.
    expect(unknown.message).not.toContain('positional');
  });
});

describe('resolveUserPath', () => {
  const saved = process.env.INIT_CWD;
  afterEach(() => {
    if (saved === undefined) delete process.env.INIT_CWD;
    else process.env.INIT_CWD = saved;
  });

  it('resolves against INIT_CWD (npm run records the caller\'s folder there), else the working directory', () => {
    process.env.INIT_CWD = tmp;
    expect(resolveUserPath('photo.png')).toBe(path.join(tmp, 'photo.png'));
    expect(resolveUserPath('/abs/photo.png')).toBe(path.resolve('/abs/photo.png'));
    delete process.env.INIT_CWD;
    expect(resolveUserPath('photo.png')).toBe(path.join(process.cwd(), 'photo.png'));
    process.env.INIT_CWD = path.join(tmp, 'gone');
    expect(resolveUserPath('photo.png')).toBe(path.join(process.cwd(), 'photo.png'));
  });
});

describe('checkOutputPng', () => {
  it('accepts a new .png (any case) in an existing folder', () => {
    expect(() => checkOutputPng(path.join(tmp, 'new.png'), '--out')).not.toThrow();
    expect(() => checkOutputPng(path.join(tmp, 'NEW.PNG'), '--out')).not.toThrow();
  });

  it('refuses another extension, saying the output is a PNG', () => {
    for (const name of ['o.jpg', 'o.webp', 'o']) {
      expect(errorOf(() => checkOutputPng(path.join(tmp, name), '--out')).message).toMatch(/the output is a PNG .*ending in \.png/);
    }
  });

  it('refuses an existing folder and a missing parent folder before any work', () => {
    const dir = path.join(tmp, 'folder.png');
    fs.mkdirSync(dir);
    expect(errorOf(() => checkOutputPng(dir, '--out')).message).toBe(`--out ${dir} is a folder; give a file name ending in .png.`);
    expect(errorOf(() => checkOutputPng(path.join(tmp, 'nope', 'o.png'), '--out')).message).toContain(`the folder ${path.join(tmp, 'nope')} does not exist`);
    // A file where the folder should be is named as a file (it exists).
    fs.writeFileSync(path.join(tmp, 'in.png'), 'x');
    expect(errorOf(() => checkOutputPng(path.join(tmp, 'in.png', 'o.png'), '--out')).message).toBe(`--out: ${path.join(tmp, 'in.png')} is a file, not a folder to write into.`);
  });

  it('refuses the input file itself, also through a symlink or a relative detour', () => {
    const photo = path.join(tmp, 'photo.png');
    fs.writeFileSync(photo, 'x');
    const link = path.join(tmp, 'link.png');
    fs.symlinkSync(photo, link);
    const linkedDir = path.join(tmp, 'linked-dir');
    fs.symlinkSync(tmp, linkedDir);
    for (const out of [photo, link, path.join(tmp, 'sub', '..', 'photo.png'), path.join(linkedDir, 'photo.png')]) {
      if (!fs.existsSync(path.dirname(out))) fs.mkdirSync(path.dirname(out), { recursive: true });
      const e = errorOf(() => checkOutputPng(out, '--out', [photo]));
      expect(e.code).toBe('BAD_ARGUMENT');
      expect(e.message).toContain('is the input file');
    }
    expect(() => checkOutputPng(path.join(tmp, 'other.png'), '--out', [photo, undefined])).not.toThrow();
  });
});
