import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractCondition } from '../../main/engine/control/extractCondition';
import { grayFromRgb } from '../../main/engine/control/grayFromRgb';
import { loadImage } from '../../main/engine/image/loadImage';
import { readParameters } from '../../main/engine/image/readParameters';
import { conditionHash } from '../../main/engine/pipelines/prepareControl';
import { testAnnotatorsDir } from '../../models/annotators/generate';
import { testControlNetDir } from '../../models/controlnet/testControlNets';
import { testModelDir } from '../fixtures/models';

const ROOT = process.cwd();
const CHELSEA = 'tests/fixtures/photos/chelsea.png';

let tmp: string;
let tiny: string;
let cn: string;
let cnTorch: string;
let cnWide: string;
let square: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-edit-control-'));
  tiny = await testModelDir('tiny');
  cn = testControlNetDir('tiny');
  cnTorch = testControlNetDir('tiny-torch');
  cnWide = testControlNetDir('tiny-wide');
  // A ready canny map drawn as a sketch would be: a black square outline on white.
  const rgb = Buffer.alloc(64 * 64 * 3, 255);
  for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) if (y === 16 || y === 47 || x === 16 || x === 47) rgb.fill(0, (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
  square = path.join(tmp, 'square.png');
  await sharp(rgb, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(square);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function edit(...args: string[]): Promise<Run> {
  return editWith({}, ...args);
}

function editWith(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'main/cli/edit.ts', ...args], {
      cwd: ROOT,
      // The derived (ControlNet-ready) UNet and the embedded test model are cached in the test's
      // own folder; the user data folder (no annotators installed) is the test's too.
      env: { ...process.env, PENTIMENTO_PROVIDER: 'cpu', PENTIMENTO_CACHE_DIR: path.join(tmp, 'cache'), PENTIMENTO_USER_DATA: path.join(tmp, 'user-data'), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function lastJson(stdout: string): Record<string, any> {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

const pixels = async (file: string) => (await sharp(file).removeAlpha().raw().toBuffer()).toString('hex');

const txt2img = (out: string, ...more: string[]) =>
  edit('--txt2img', '--prompt', 'a cat', '--width', '64', '--height', '64', '--steps', '2', '--seed', '5', '--model', tiny, '--out', path.join(tmp, out), ...more);

describe('npm run edit --control', () => {
  it('guides text-to-image by a condition from a photo and reports its consistency under metrics', async () => {
    const r = await txt2img('canny.png', '--control', `${cn},type=canny,image=${CHELSEA},scale=1`, '--json');
    expect(r.code, r.stderr).toBe(0);
    // A 451×300 photo for a 64×64 generation is stretched: said, with by how much.
    expect(r.stderr).toContain(`edit: warning: the condition image ${path.resolve(CHELSEA)} is 451×300 but the result 64×64: it is stretched to fit (aspect ratios differ by 50%).`);
    const s = lastJson(r.stdout);
    expect(s.metrics).toMatchObject({ consistency_metric: 'f1', consistency_type: 'canny', consistency_higher_is_better: true });
    expect(s.metrics.consistency).toBeGreaterThanOrEqual(0);
    expect(s.metrics.consistency).toBeLessThanOrEqual(1);
    const params = await readParameters(path.join(tmp, 'canny.png'));
    expect((params?.extra as any)?.control).toEqual([
      { type: 'canny', scale: 1, start: 0, end: 1, controlnet: 'tiny', controlnetHash: expect.stringMatching(/^[0-9a-f]{16}$/), conditionHash: expect.stringMatching(/^[0-9a-f]{16}$/), image: 'chelsea.png', raw: false },
    ]);
    // The ControlNet saw canny edges found in the photo resized to the 64×64 generation size (as
    // the app does), not a 451×300 edge map shrunk to 64×64, whose one-pixel edges fade below ½.
    const atSize = await extractCondition('canny', await loadImage(CHELSEA), { width: 64, height: 64 });
    expect((params?.extra as any)?.control[0].conditionHash).toBe(conditionHash(atSize));
    expect(grayFromRgb(atSize.rgb, 64, 64).filter((v) => v > 0.5).length).toBeGreaterThan(100);
  });

  it("without --width/--height a controlled txt2img takes the photo's shape, so the README's extract → score flow works on it", async () => {
    const out = path.join(tmp, 'shaped.png');
    const r = await edit('--txt2img', '--prompt', 'a cat', '--steps', '2', '--seed', '5', '--model', tiny, '--out', out, '--control', `${cn},type=canny,image=${CHELSEA}`, '--json');
    expect(r.code, r.stderr).toBe(0);
    // Run at 448×304 (fitted to multiples of 8) and restored to the photo's 451×300, as photo edits are.
    expect(lastJson(r.stdout)).toMatchObject({ width: 451, height: 300 });
    expect(r.stderr).not.toContain('stretched');
    const edges = path.join(tmp, 'shaped-edges.png');
    const extract = spawnSync('npx', ['tsx', 'main/cli/control.ts', 'extract', '--type', 'canny', '--image', CHELSEA, '--out', edges], { cwd: ROOT, encoding: 'utf8' });
    expect(extract.status, extract.stderr).toBe(0);
    const score = spawnSync('npx', ['tsx', 'main/cli/control.ts', 'score', '--type', 'canny', '--image', out, '--condition', edges, '--json'], { cwd: ROOT, encoding: 'utf8' });
    expect(score.status, score.stderr).toBe(0);
    const value = JSON.parse(score.stdout.trim().split('\n').pop()!).score;
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(1);
  });

  it('with only --width, a controlled txt2img takes its height from the photo\'s aspect ratio (451×300 → 64×40)', async () => {
    const r = await edit('--txt2img', '--prompt', 'a cat', '--width', '64', '--steps', '2', '--seed', '5', '--model', tiny, '--out', path.join(tmp, 'w64.png'), '--control', `${cn},type=canny,image=${CHELSEA}`, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ width: 64, height: 40 });
    // 43 is not a multiple of 8: the nearest one is 40, and the 6% left is said.
    expect(r.stderr).toContain('differ by 6%');
  });

  it('a missing condition image with --control test names test, not its cache path', async () => {
    const r = await txt2img('missing.png', '--control', `test,type=canny,image=${path.join(tmp, 'nope.png')}`);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`edit: --control test: the image ${path.join(tmp, 'nope.png')} does not exist.`);
  });

  it('refuses a canny condition without edges (a flat photo): one line naming its file, exit 2, no output', async () => {
    const flat = path.join(tmp, 'flat.png');
    await sharp({ create: { width: 80, height: 60, channels: 3, background: { r: 120, g: 130, b: 140 } } }).png().toFile(flat);
    const r = await txt2img('flat-out.png', '--control', `${cn},type=canny,image=${flat}`);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      "edit: ControlNet 1's canny condition (from flat.png) has no edge pixels: it gives the ControlNet no structure to follow and its consistency (F1 over edge pixels) is undefined; use an image with visible edges.",
    );
    expect(fs.existsSync(path.join(tmp, 'flat-out.png'))).toBe(false);
  });

  it('scale 0 gives the uncontrolled pixels; scale 1 other ones', async () => {
    const [plain, zero, one] = await Promise.all([
      txt2img('plain.png'),
      // lineart: the score re-extracts lines from the result with the (generated) annotator.
      txt2img('zero.png', '--control', `${cnTorch},type=lineart,image=${square},raw,scale=0`, '--annotators', testAnnotatorsDir()),
      txt2img('one.png', '--control', `${cnTorch},type=lineart,image=${square},raw`, '--annotators', testAnnotatorsDir()),
    ]);
    for (const r of [plain, zero, one]) expect(r.code, r.stderr).toBe(0);
    // A 64×64 map for a 64×64 generation: nothing stretched, nothing said.
    expect(one.stderr).not.toContain('stretched');
    expect(zero.stdout).toMatch(/consistency with the lineart condition: ms_ssim \d\.\d{4} \(higher is better\)/);
    expect(await pixels(path.join(tmp, 'zero.png'))).toBe(await pixels(path.join(tmp, 'plain.png')));
    expect(await pixels(path.join(tmp, 'one.png'))).not.toBe(await pixels(path.join(tmp, 'plain.png')));
    // The same raw condition map is the same conditionHash in both results, recorded with its source.
    const recorded = async (f: string) => ((await readParameters(path.join(tmp, f)))?.extra as any)?.control[0];
    const [z, o] = [await recorded('zero.png'), await recorded('one.png')];
    expect(z).toMatchObject({ type: 'lineart', scale: 0, raw: true, image: path.basename(square) });
    expect(o.conditionHash).toBe(z.conditionHash);
  });

  it('--best-of N tries seeds seed…seed+N−1, keeps the most consistent and lists them all', async () => {
    const r = await edit(
      '--image', CHELSEA, '--prompt', 'a cat', '--steps', '2', '--seed', '30', '--model', tiny, '--out', path.join(tmp, 'best.png'),
      '--control', `${cn},type=canny,image=${CHELSEA},start=0,end=1`, '--control', `${cnTorch},type=canny,image=${CHELSEA},scale=0.5`,
      '--best-of', '3', '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    // The edited photo is its own condition image: run fitted to 448×304 and restored, nothing stretched.
    expect(r.stderr).not.toContain('stretched');
    const s = lastJson(r.stdout);
    const tried = s.metrics.best_of as { seed: number; consistency: number }[];
    expect(tried.map((t) => t.seed).sort()).toEqual([30, 31, 32]);
    for (let k = 1; k < tried.length; k++) expect(tried[k - 1].consistency).toBeGreaterThanOrEqual(tried[k].consistency);
    expect(s.seed).toBe(tried[0].seed);
    expect(s.metrics.consistency).toBe(tried[0].consistency);
    expect([s.width, s.height]).toEqual([451, 300]);
    // Timings cover all three generations, each seed's kept under perSeed.
    const perSeed = s.timings.perSeed as { seed: number; total: number; insideOrt: number; denoise: number }[];
    expect(perSeed.map((t) => t.seed)).toEqual([30, 31, 32]);
    for (const key of ['total', 'insideOrt', 'denoise'] as const) {
      expect(s.timings[key]).toBeCloseTo(perSeed.reduce((a, t) => a + t[key], 0), 6);
    }
    expect(s.timings.total).toBeGreaterThan(Math.max(...perSeed.map((t) => t.total)));
  });

  it('rejects bad specs, with what to do', async () => {
    const cases: [string[], RegExp][] = [
      [['--control', `${cn},type=canny,image=${square},foo=1`], /unknown key "foo"; use type, image, raw, scale, start, end/],
      [['--control', `${cn},type=canny`], /image=PATH is missing/],
      [['--control', `${cn},image=${square}`], /type=TYPE is missing/],
      [['--control', `${cn},type=canny,image=${path.join(tmp, 'nope.png')}`], /the image .*nope\.png does not exist/],
      [['--control', `${cn},type=canny,image=${square},scale=abc`], /scale is "abc"; give a number/],
      [['--control', `${cn},type=canny,image=${square},start=0.8,end=0.2`], /start 0.8 must be before end 0.2/],
      [['--control', `${cn},type=sketchy,image=${square}`], /Unknown condition type "sketchy"/],
      [['--control', `${path.join(tmp, 'missing-cn')},type=canny,image=${square}`], /ControlNet .*missing-cn does not exist/],
      [['--best-of', '2'], /--best-of ranks results .* add --control/],
      [['--control', `${cn},type=canny,image=${square}`, '--best-of', '0'], /--best-of is 0/],
    ];
    const runs = await Promise.all(cases.map(([args]) => txt2img('bad.png', ...args)));
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(cases[i][1]);
    });
    expect(fs.existsSync(path.join(tmp, 'bad.png'))).toBe(false);
  });

  it('a ControlNet that does not fit the model fails naming both; a depth condition without its annotator says where it goes', async () => {
    const [wide, depth] = await Promise.all([
      txt2img('wide.png', '--control', `${cnWide},type=canny,image=${square}`),
      txt2img('depth.png', '--control', `${cn},type=depth,image=${CHELSEA}`, '--annotators', path.join(tmp, 'no-models')),
    ]);
    expect(wide.code).toBe(2);
    // The UNet is named as the user's model folder has it, not the ControlNet-ready copy in the cache.
    expect(wide.stderr).toContain(`The ControlNet ${path.join(cnWide, 'model.onnx')} does not fit the UNet ${path.join(tiny, 'unet', 'model.onnx')}:`);
    expect(wide.stderr).not.toContain(path.join(tmp, 'cache'));
    expect(wide.stderr).toMatch(/cross-attention width 48 vs the UNet's 32/);
    expect(depth.code).toBe(2);
    expect(depth.stderr).toMatch(/Scoring the depth condition needs its annotator at .*no-models\/annotators\/depth\.onnx, which is missing/);
  });
  it('without --model, as the app: --control test is the embedded test ControlNet, a missing annotator the test one; ~/ in the spec is the home folder', async () => {
    const home = path.join(tmp, 'home');
    fs.mkdirSync(home, { recursive: true });
    fs.copyFileSync(CHELSEA, path.join(home, 'chelsea.png'));
    const out = path.join(tmp, 'embedded-depth.png');
    const r = await editWith(
      { HOME: home },
      '--txt2img', '--prompt', 'a cat', '--width', '64', '--height', '64', '--steps', '2', '--seed', '5', '--out', out,
      '--control', 'test,type=depth,image=~/chelsea.png', '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const notices = r.stderr.trimEnd().split('\n').filter((l) => !/ControlNet-ready/.test(l));
    expect(notices).toEqual([
      `edit: no depth annotator at ${path.join(tmp, 'user-data', 'models', 'annotators', 'depth.onnx')}; using a random-weight test annotator, whose maps show nothing real (see README.md, Models).`,
      `edit: warning: the condition image ${path.join(home, 'chelsea.png')} is 451×300 but the result 64×64: it is stretched to fit (aspect ratios differ by 50%).`,
      'edit: using the embedded random-weight test model; results are noise, not images. Pass --model DIR for a real one.',
    ]);
    const s = lastJson(r.stdout);
    expect(s.model.testModel).toBe(true);
    expect(s.metrics).toMatchObject({ consistency_metric: 'rmse', consistency_type: 'depth' });
    const params = await readParameters(out);
    // The keyword, not the cache path (which holds the user's home folder).
    expect((params?.extra as any)?.control?.[0]?.controlnet).toBe('test');
    expect(JSON.stringify(params)).not.toContain(path.join(tmp, 'cache'));
    // With --model (a real model, as far as the CLI knows), a missing annotator is still an error naming its file.
    const real = await txt2img('real-depth.png', '--control', `${cn},type=depth,image=${CHELSEA}`);
    expect(real.code).toBe(2);
    expect(real.stderr).toContain(`needs its annotator at ${path.join(tmp, 'user-data', 'models', 'annotators', 'depth.onnx')}, which is missing`);
  });

  it('--control test gives byte-identical PNGs from two cache folders (no path in the parameters)', async () => {
    const run = (cache: string, out: string) =>
      editWith(
        { PENTIMENTO_CACHE_DIR: path.join(tmp, cache) },
        '--txt2img', '--prompt', 'a cat', '--width', '64', '--height', '64', '--steps', '2', '--seed', '5', '--out', path.join(tmp, out),
        '--control', `test,type=canny,image=${path.resolve(CHELSEA)}`,
      );
    const a = await run('cache-a', 'cache-a.png');
    expect(a.code, a.stderr).toBe(0);
    const b = await run('cache-b', 'cache-b.png');
    expect(b.code, b.stderr).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'cache-b.png')).equals(fs.readFileSync(path.join(tmp, 'cache-a.png')))).toBe(true);
  });
});
