import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../../main/engine/image/loadImage';
import { savePng } from '../../main/engine/image/savePng';
import { testAnnotatorsDir } from '../../models/annotators/generate';
import { runCliScript } from './runCli';

const ROOT = process.cwd();

function control(...args: string[]) {
  const r = spawnSync('npx', ['tsx', 'main/cli/control.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(stderr: string, mentions: string | RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^control: /);
  expect(lines[0]).toMatch(mentions);
  expect(stderr).not.toMatch(/\n\s+at /);
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

describe('npm run control', () => {
  let dir: string;
  let square: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pentimento-control-cli-'));
    square = path.join(dir, 'square.png');
    // A bright 40×40 square on a dark 96×80 photo.
    const rgb = new Uint8Array(96 * 80 * 3);
    for (let y = 0; y < 80; y++) for (let x = 0; x < 96; x++) rgb.fill(x >= 28 && x < 68 && y >= 20 && y < 60 ? 230 : 15, (y * 96 + x) * 3, (y * 96 + x) * 3 + 3);
    await savePng(square, rgb, 96, 80);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('extract on a flat photo writes its empty canny map and warns that score and edit will refuse it', async () => {
    const flat = path.join(dir, 'flat.png');
    await savePng(flat, new Uint8Array(32 * 24 * 3).fill(128), 32, 24);
    const out = path.join(dir, 'flat-edges.png');
    const r = control('extract', '--type', 'canny', '--image', flat, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(r.stderr.trim()).toBe('control: warning: the canny map has no edge pixels (a flat photo, or thresholds too high for it): score and edit refuse it; try lower --low/--high.');
    // A photo with edges: no warning.
    const edges = control('extract', '--type', 'canny', '--image', square, '--out', path.join(dir, 'square-edges.png'));
    expect(edges.code, edges.stderr).toBe(0);
    expect(edges.stderr).not.toContain('warning');
  });

  it('extracts canny edges at the generation size, and scores them against themselves as F1 1', async () => {
    const out = path.join(dir, 'canny.png');
    const r = control('extract', '--type', 'canny', '--image', square, '--out', out, '--resolution', '128');
    expect(r.code, r.stderr).toBe(0);
    const edges = await loadImage(out);
    // 96×80 → long side 128 → 128 × 106.7 → 128×128 after rounding to multiples of 64.
    expect([edges.width, edges.height]).toEqual([128, 128]);
    expect(new Set(edges.rgb)).toEqual(new Set([0, 255]));

    const s = control('score', '--type', 'canny', '--image', out, '--condition', out, '--extracted', '--json');
    expect(s.code, s.stderr).toBe(0);
    expect(lastJson(s.stdout)).toEqual({ score: 1, metric: 'f1', higherIsBetter: true });
  });

  it('scores a result by re-extracting the condition with an annotator (depth RMSE, 0 for the same photo)', () => {
    const modelsDir = testAnnotatorsDir();
    const out = path.join(dir, 'depth.png');
    const e = control('extract', '--type', 'depth', '--image', square, '--out', out, '--models', modelsDir, '--provider', 'cpu');
    expect(e.code, e.stderr).toBe(0);
    const s = control('score', '--type', 'depth', '--image', square, '--condition', out, '--models', modelsDir, '--provider', 'cpu', '--json');
    expect(s.code, s.stderr).toBe(0);
    // --json: the object alone on stdout (it pipes into a JSON tool); without it, the readable line.
    const json = JSON.parse(s.stdout) as Record<string, unknown>;
    const plain = control('score', '--type', 'depth', '--image', square, '--condition', out, '--models', modelsDir, '--provider', 'cpu');
    expect(plain.stdout).toMatch(/^rmse \d+\.\d{4} \(lower is better\)\n$/);
    expect(control('extract', '--type', 'canny', '--image', square, '--out', path.join(dir, 'j.png'), '--json').stderr.trim()).toBe(
      'control: --json applies to score (extract writes an image); drop it.',
    );
    expect(json.metric).toBe('rmse');
    expect(json.higherIsBetter).toBe(false);
    // The PNG holds the 8-bit condition losslessly, and the same photo re-extracts to the same map.
    expect(json.score).toBe(0);
  });

  it('fails with one line and exit 2, writing nothing, when an annotator is missing', () => {
    const out = path.join(dir, 'seg.png');
    const r = control('extract', '--type', 'seg', '--image', square, '--out', out, '--models', path.join(dir, 'no-models'));
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /annotators\/seg\.onnx.*ADE20K/);
    expect(existsSync(out)).toBe(false);
  });

  it('reads --image and writes --out relative to the caller\'s folder (INIT_CWD); refuses a non-PNG or the input as --out', async () => {
    const r = await runCliScript('main/cli/control.ts', ['extract', '--type', 'canny', '--image', 'square.png', '--out', 'edges.png'], { initCwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect((await loadImage(path.join(dir, 'edges.png'))).width).toBe(96);
    const jpg = control('extract', '--type', 'canny', '--image', square, '--out', path.join(dir, 'edges.jpg'));
    expect(jpg.code).toBe(2);
    // A condition map carries no generation parameters: the message does not claim it does.
    expectOneLineError(jpg.stderr, /edges\.jpg: the output is a PNG; give a name ending in \.png\.$/);
    expect(existsSync(path.join(dir, 'edges.jpg'))).toBe(false);
    const same = control('extract', '--type', 'canny', '--image', square, '--out', square);
    expect(same.code).toBe(2);
    expectOneLineError(same.stderr, /is the input file/);
  });

  it('without --models, a depth annotator missing from the user data slot is the random-weight test one, with a notice', async () => {
    const userData = path.join(dir, 'user-data');
    const env = { PENTIMENTO_USER_DATA: userData, PENTIMENTO_CACHE_DIR: path.join(dir, 'cache') };
    const out = path.join(dir, 'test-depth.png');
    const r = await runCliScript('main/cli/control.ts', ['extract', '--type', 'depth', '--image', square, '--out', out], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `control: no depth annotator at ${path.join(userData, 'models', 'annotators', 'depth.onnx')}; using a random-weight test annotator, whose maps show nothing real (see README.md, Models).`,
    ]);
    const map = await loadImage(out);
    expect([map.width, map.height]).toEqual([96, 80]);
    // An annotator installed in the slot is used, without a notice; canny needs none.
    mkdirSync(path.join(userData, 'models'), { recursive: true });
    cpSync(path.join(testAnnotatorsDir(), 'annotators'), path.join(userData, 'models', 'annotators'), { recursive: true });
    const [installed, canny] = await Promise.all([
      runCliScript('main/cli/control.ts', ['extract', '--type', 'depth', '--image', square, '--out', path.join(dir, 'user-depth.png')], { env }),
      runCliScript('main/cli/control.ts', ['extract', '--type', 'canny', '--image', square, '--out', path.join(dir, 'user-canny.png')], { env }),
    ]);
    for (const x of [installed, canny]) {
      expect(x.code, x.stderr).toBe(0);
      expect(x.stderr).toBe('');
    }
  });

  const cudaLib = path.join(ROOT, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  it.runIf(process.platform === 'linux' && !existsSync(cudaLib))('a forced provider that cannot run is the only stderr line: no test-annotator notice before it', async () => {
    const env = { PENTIMENTO_USER_DATA: path.join(dir, 'no-user-data'), PENTIMENTO_CACHE_DIR: path.join(dir, 'cache') };
    const r = await runCliScript('main/cli/control.ts', ['extract', '--type', 'depth', '--image', square, '--out', path.join(dir, 'cuda.png'), '--provider', 'cuda'], { env });
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /^control: The cuda execution provider is not usable here/);
  });

  it('rejects an unknown type, a missing flag and an unscorable condition with one line and exit 2', async () => {
    const bad = control('extract', '--type', 'normals', '--image', square, '--out', path.join(dir, 'x.png'));
    expect(bad.code).toBe(2);
    expectOneLineError(bad.stderr, /Unknown condition type "normals"; use one of canny, depth/);
    const small = control('extract', '--type', 'canny', '--image', square, '--out', path.join(dir, 'x.png'), '--resolution', '10');
    expect(small.code).toBe(2);
    expectOneLineError(small.stderr, /^control: --resolution is "10"; give a whole number ≥ 64\.$/);
    // A 1×1 condition shrank the result to 1×1 (both edge maps empty: "F1 1"); another shape was stretched.
    const tiny = path.join(dir, 'tiny.png');
    await savePng(tiny, new Uint8Array([255, 255, 255]), 1, 1);
    const one = control('score', '--type', 'canny', '--image', square, '--condition', tiny, '--json');
    expect(one.code).toBe(2);
    expectOneLineError(one.stderr, /^control: The condition is 1×1; a condition scored needs at least 8 px on each side\.$/);
    const wide = path.join(dir, 'wide.png');
    await savePng(wide, new Uint8Array(3000 * 20 * 3).fill(255), 3000, 20);
    const stretched = control('score', '--type', 'canny', '--image', square, '--condition', wide, '--extracted');
    expect(stretched.code).toBe(2);
    expectOneLineError(stretched.stderr, /^control: The condition is 3000×20 but the result 96×80: their aspect ratios differ by more than 2%/);
    // A canny condition without edges has no F1 over edge pixels (it scored a perfect 1).
    const blank = path.join(dir, 'blank.png');
    await savePng(blank, new Uint8Array(96 * 80 * 3), 96, 80);
    const empty = control('score', '--type', 'canny', '--image', blank, '--condition', blank, '--json');
    expect(empty.code).toBe(2);
    expectOneLineError(empty.stderr, /^control: The canny condition has no edge pixels, so its F1 over edge pixels is undefined/);
    const missing = control('score', '--type', 'lineart', '--image', square);
    expect(missing.code).toBe(2);
    expectOneLineError(missing.stderr, /score needs --condition/);
  });
});
