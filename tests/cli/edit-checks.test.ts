import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitToModel } from '../../main/engine/image/fitToModel';
import { loadImage } from '../../main/engine/image/loadImage';
import { readParameters } from '../../main/engine/image/readParameters';
import { testModelDir } from '../fixtures/models';
import { lastJson, ROOT, runCliScript, type CliRun } from './runCli';

// What a first user ran into: relative paths, outputs, masks, long prompts, broken models.
let tmp: string;
let user: string;
let tiny: string;
const PHOTO = { width: 90, height: 60 };

const edit = (args: string[], initCwd?: string) => runCliScript('main/cli/edit.ts', args, { initCwd });

const TEST_MODEL_NOTICE = /^edit: (using the embedded random-weight test model|.* is a random-weight test model); results are noise/;

function expectOneLineError(r: CliRun, mentions: string | RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !TEST_MODEL_NOTICE.test(l));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^edit: /);
  expect(lines[0]).toMatch(mentions);
  expect(r.stdout).toBe('');
}

beforeAll(async () => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-edit-checks-')));
  user = path.join(tmp, 'user');
  fs.mkdirSync(user);
  tiny = await testModelDir('tiny');
  await sharp(path.join(ROOT, 'tests/fixtures/photos/chelsea.png')).resize(PHOTO.width, PHOTO.height).png().toFile(path.join(user, 'photo.png'));
  // A transparent photo: alpha ramps left to right.
  const rgba = Buffer.alloc(64 * 48 * 4);
  for (let i = 0; i < 64 * 48; i++) rgba.set([200, (i * 7) % 256, 40, Math.round(((i % 64) / 63) * 255)], i * 4);
  await sharp(rgba, { raw: { width: 64, height: 48, channels: 4 } }).png().toFile(path.join(user, 'rgba.png'));
  await sharp(Buffer.alloc(PHOTO.width * PHOTO.height), { raw: { width: PHOTO.width, height: PHOTO.height, channels: 1 } }).png().toFile(path.join(user, 'black.png'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('npm run edit: what a fresh-clone user ran into', () => {
  it('relative paths mean the caller\'s folder (INIT_CWD); --json steps is N and stepsRun ⌊N·strength⌋; the PNG records its own size', async () => {
    const r = await edit(['--image', 'photo.png', '--prompt', 'a cat', '--model', tiny, '--steps', '4', '--strength', '0.5', '--seed', '3', '--out', 'out.png', '--json'], user);
    expect(r.code, r.stderr).toBe(0);
    const out = path.join(user, 'out.png');
    expect(fs.existsSync(path.join(ROOT, 'out.png'))).toBe(false);
    const summary = lastJson(r.stdout);
    expect(summary).toMatchObject({ output: out, width: PHOTO.width, height: PHOTO.height, steps: 4, stepsRun: 2 });
    const meta = await sharp(out).metadata();
    const params = await readParameters(out);
    const model = fitToModel(PHOTO.width, PHOTO.height, { multiple: 8, maxSide: 768 });
    expect([params?.width, params?.height]).toEqual([meta.width, meta.height]);
    expect(params).toMatchObject({ steps: 4, strength: 0.5, extra: { modelWidth: model.width, modelHeight: model.height } });
    expect(model.width !== PHOTO.width || model.height !== PHOTO.height).toBe(true);
    // The default output goes beside the photo, in the caller's folder too.
    const d = await edit(['--image', 'photo.png', '--prompt', 'a cat', '--model', tiny, '--steps', '2', '--seed', '3'], user);
    expect(d.code, d.stderr).toBe(0);
    expect(fs.existsSync(path.join(user, 'photo-edited.png'))).toBe(true);
    // Run again: the default name never replaces the earlier result; the next free one is taken.
    const first = fs.readFileSync(path.join(user, 'photo-edited.png'));
    const e = await edit(['--image', 'photo.png', '--prompt', 'a dog', '--model', tiny, '--steps', '2', '--seed', '4', '--json'], user);
    expect(e.code, e.stderr).toBe(0);
    expect(lastJson(e.stdout).output).toBe(path.join(user, 'photo-edited-2.png'));
    expect(fs.readFileSync(path.join(user, 'photo-edited.png')).equals(first)).toBe(true);
    // Runs in parallel each claim their own name when they save (none is lost), leaving no temporary file.
    const parallel = await Promise.all([5, 6, 7].map((seed) => edit(['--image', 'photo.png', '--prompt', 'a cow', '--model', tiny, '--steps', '2', '--strength', '0.5', '--seed', String(seed), '--json'], user)));
    for (const p of parallel) expect(p.code, p.stderr).toBe(0);
    const outputs = parallel.map((p) => lastJson(p.stdout).output as string);
    expect(new Set(outputs)).toEqual(new Set(['-3', '-4', '-5'].map((n) => path.join(user, `photo-edited${n}.png`))));
    const seeds = await Promise.all(outputs.map(async (o) => (await readParameters(o))?.seed));
    expect(seeds.sort()).toEqual([5, 6, 7]);
    expect(fs.readdirSync(user).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a photo with alpha comes back RGBA with its own alpha', async () => {
    const out = path.join(tmp, 'rgba-out.png');
    const r = await edit(['--image', path.join(user, 'rgba.png'), '--prompt', 'x', '--model', tiny, '--steps', '2', '--seed', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const [src, res] = await Promise.all([loadImage(path.join(user, 'rgba.png')), loadImage(out)]);
    expect((await sharp(out).metadata()).channels).toBe(4);
    expect(Buffer.from(res.alpha!).equals(Buffer.from(src.alpha!))).toBe(true);
  });

  it('an empty mask warns and returns the photo unchanged; a prompt over 75 tokens warns', async () => {
    const out = path.join(tmp, 'empty-mask.png');
    const long = new Array(30).fill('a red apple').join(' ');
    const r = await edit(['--image', path.join(user, 'photo.png'), '--mask', path.join(user, 'black.png'), '--prompt', 'x', '--negative', long, '--model', tiny, '--steps', '2', '--seed', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('edit: warning: the mask is empty: nothing is regenerated; the photo is returned unchanged.');
    expect(r.stderr).toMatch(/edit: warning: --negative has 90 tokens; only the first 75 reach the text encoder\./);
    expect(r.stderr).not.toMatch(/--prompt has/);
    const [src, res] = await Promise.all([loadImage(path.join(user, 'photo.png')), loadImage(out)]);
    expect(Buffer.from(res.rgb).equals(Buffer.from(src.rgb))).toBe(true);
  });

  it('a UNet with NaN weights fails naming the unet, and writes no file', async () => {
    const nan = path.join(tmp, 'nan-model');
    fs.cpSync(tiny, nan, { recursive: true });
    const weights = path.join(nan, 'unet', 'model.onnx_data');
    const n = fs.statSync(weights).size / 4;
    fs.rmSync(weights); // a fresh file: the cached one may be hard-linked
    fs.writeFileSync(weights, new Uint8Array(new Float32Array(n).fill(Number.NaN).buffer));
    const out = path.join(tmp, 'nan.png');
    const r = await edit(['--image', path.join(user, 'photo.png'), '--prompt', 'x', '--model', nan, '--steps', '2', '--out', out]);
    expectOneLineError(r, /unet produced NaN values .*fp32/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a model without vae_encoder/ runs --txt2img; a photo edit with it names the missing file', async () => {
    const noEnc = path.join(tmp, 'no-encoder');
    fs.cpSync(tiny, noEnc, { recursive: true });
    fs.rmSync(path.join(noEnc, 'vae_encoder'), { recursive: true });
    const out = path.join(tmp, 'no-enc.png');
    const [t2i, i2i] = await Promise.all([
      edit(['--txt2img', '--width', '64', '--height', '64', '--prompt', 'x', '--model', noEnc, '--steps', '1', '--seed', '1', '--out', out]),
      edit(['--image', path.join(user, 'photo.png'), '--prompt', 'x', '--model', noEnc, '--steps', '2', '--out', path.join(tmp, 'never-enc.png')]),
    ]);
    expect(t2i.code, t2i.stderr).toBe(0);
    expect((await sharp(out).metadata()).width).toBe(64);
    expectOneLineError(i2i, path.join(noEnc, 'vae_encoder', 'model.onnx'));
    expect(fs.existsSync(path.join(tmp, 'never-enc.png'))).toBe(false);
  });

  it('refuses bad outputs, negative values and unknown flags up front, in one line, leaving the photo as it was', async () => {
    const photo = path.join(user, 'photo.png');
    const before = fs.readFileSync(photo);
    const link = path.join(tmp, 'link-to-photo.png');
    fs.symlinkSync(photo, link);
    fs.mkdirSync(path.join(tmp, 'a-folder.png'));
    fs.writeFileSync(path.join(tmp, 'a-file'), 'x');
    const base = ['--image', photo, '--prompt', 'x', '--model', tiny, '--steps', '2'];
    // A flag given twice is refused on its own, so cases about --steps leave base's out.
    const withoutSteps = base.slice(0, -2);
    const cases: [string[], string | RegExp][] = [
      [[...base, '--out', 'o.jpg'], /o\.jpg: the output is a PNG .*ending in \.png/],
      [[...base, '--out', photo], 'is the input file'],
      [[...base, '--out', link], 'is the input file'],
      [[...base, '--out', path.join(tmp, 'a-folder.png')], 'is a folder'],
      [[...base, '--out', path.join(tmp, 'missing', 'o.png')], 'does not exist'],
      // Errors name the flag as typed, whether the CLI or the engine checks the value.
      [[...base, '--strength', '-0.1'], /^edit: --strength is -0\.1; use a number in \(0, 1\]/],
      [[...base, '--strength', 'abc'], /^edit: --strength is "abc"; give a number\.$/],
      [[...base, '--seed', '-1'], /^edit: --seed is -1; /],
      [[...withoutSteps, '--steps', '0'], /^edit: --steps is 0; use a whole number from 1 to 500\.$/],
      // 999 and 1000 failed late (DDIM: out of timesteps; DPM-Solver++: NaN); every sampler runs 500.
      [[...withoutSteps, '--steps', '1000', '--scheduler', 'dpmpp-2m'], /^edit: --steps is 1000; use a whole number from 1 to 500\.$/],
      [[...base, '--guidance', '-1'], /^edit: --guidance is -1; use a number from 0 to 30 /],
      // A huge scale was taken, then failed late as a NaN "fp16 overflow" from the UNet.
      [[...base, '--guidance', '1e308'], /^edit: --guidance is 1e\+308; use a number from 0 to 30 \(≤ 1 turns classifier-free guidance off\)\.$/],
      [['--txt2img', '--prompt', 'x', '--model', tiny, '--width', '60'], /^edit: --width is 60; use a multiple of 8/],
      [[...base, '--foo'], /^edit: unknown option --foo; see --help\.$/],
      [[...base, '--promt', 'y'], 'unknown option --promt (did you mean --prompt?); see --help.'],
      [['--image', photo, '--prompt', 'x', '--model', path.join(tmp, 'a-file'), '--out', path.join(tmp, 'o.png')], 'is a file, not a model folder'],
    ];
    const runs = await Promise.all(cases.map(([args]) => edit(args, tmp)));
    runs.forEach((r, i) => expectOneLineError(r, cases[i][1]));
    expect(fs.readFileSync(photo).equals(before)).toBe(true);
    expect(fs.readdirSync(tmp).filter((f) => f === 'o.png' || f === 'o.jpg' || f.endsWith('.tmp'))).toEqual([]);
  });

  it('a forced provider that cannot start is one line on stderr (no onnxruntime log) and exit 2, by flag or PENTIMENTO_PROVIDER', async () => {
    // Linux without the CUDA provider library (onnxruntime-node's default install) is what a new
    // user has: forcing cuda there printed onnxruntime's multi-line native error first, exit 1.
    const cudaLib = path.join(ROOT, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
    const forced = process.platform === 'linux' && !fs.existsSync(cudaLib) ? 'cuda' : process.platform === 'darwin' ? 'dml' : 'coreml';
    const args = ['--txt2img', '--prompt', 'x', '--width', '64', '--height', '64', '--steps', '2', '--model', tiny, '--out', path.join(tmp, 'forced.png')];
    const [byFlag, byEnv] = await Promise.all([
      edit([...args, '--provider', forced]),
      runCliScript('main/cli/edit.ts', args, { env: { PENTIMENTO_PROVIDER: forced } }),
    ]);
    for (const r of [byFlag, byEnv]) {
      expect(r.stderr, r.stderr).not.toMatch(/onnxruntime:|\x1b\[/);
      expectOneLineError(r, new RegExp(`^edit: The ${forced} execution provider is not usable here \\(.+\\)\\. Use --provider cpu or auto\\.$`));
    }
    if (forced === 'cuda') {
      expect(byFlag.stderr).toContain('libonnxruntime_providers_cuda.so is not installed; run npm run setup:cuda');
      // Picked automatically, the same machine falls back to the CPU and --json says why.
      const auto = await edit([...args.slice(0, -1), path.join(tmp, 'auto.png'), '--provider', 'auto', '--json']);
      expect(auto.code, auto.stderr).toBe(0);
      expect(lastJson(auto.stdout)).toMatchObject({ provider: 'cpu', providerFallback: [expect.stringMatching(/^cuda: .*libonnxruntime_providers_cuda\.so/)] });
    }
    expect(fs.existsSync(path.join(tmp, 'forced.png'))).toBe(false);
  });

  it('--help points at the README, not a file the repository lacks', async () => {
    const r = await edit(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('PAPERS.md');
    expect(r.stdout).toContain('README.md');
    expect(r.stdout).toContain('keeps its alpha');
    // Inpainting's paste-back is feathered: said next to "black = keep", with the width.
    expect(r.stdout).toMatch(/white = regenerate, black = keep .*\n.*feathered by a Gaussian of\s+σ = 4 px: pixels more than 12 px from any non-black mask pixel\s+are the photo's, bit for bit/);
  });
});
