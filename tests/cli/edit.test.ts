import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParameters } from '../../main/engine/image/readParameters';
import { encodeNpy } from '../../main/engine/util/npy';
import { testModelDir } from '../fixtures/models';

const ROOT = process.cwd();
const ASTRONAUT = 'tests/fixtures/photos/astronaut.png';
const CHELSEA = 'tests/fixtures/photos/chelsea.png';

let tmp: string;
let tiny: string;
let torch: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-edit-'));
  tiny = await testModelDir('tiny');
  torch = await testModelDir('tiny-torch');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run edit -- …` as a child process (non-TTY: no progress bar). */
function edit(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'main/cli/edit.ts', ...args], { cwd: ROOT, env: { ...process.env, PENTIMENTO_PROVIDER: 'cpu' } });
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

describe('npm run edit', () => {
  it('edits the astronaut photo: a 512×512 PNG with its parameters; the same seed gives the same bytes', async () => {
    const a = path.join(tmp, 'a.png');
    const b = path.join(tmp, 'b.png');
    // b runs on a copy of the model folder with other file times, as on another machine: the
    // model hash in the PNG's parameters depends on content only, so the bytes still match.
    const copy = path.join(tmp, 'tiny-copy');
    fs.cpSync(tiny, copy, { recursive: true });
    const later = new Date(Date.now() + 86_400_000);
    for (const part of ['text_encoder', 'unet', 'vae_encoder', 'vae_decoder']) {
      for (const f of fs.readdirSync(path.join(copy, part))) fs.utimesSync(path.join(copy, part, f), later, later);
    }
    const common = ['--image', ASTRONAUT, '--prompt', 'an astronaut on mars', '--steps', '2', '--seed', '7', '--json'];
    const [ra, rb] = await Promise.all([edit(...common, '--model', tiny, '--out', a), edit(...common, '--model', copy, '--out', b)]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const summary = lastJson(ra.stdout);
    expect(summary).toMatchObject({
      output: a,
      width: 512,
      height: 512,
      seed: 7,
      provider: 'cpu',
      model: { name: 'pentimento-test-tiny', testModel: true },
      metrics: {},
    });
    expect(summary.model.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(summary.timings.insideOrt).toBeGreaterThan(0);
    expect(summary.timings.total).toBeGreaterThanOrEqual(summary.timings.insideOrt);
    expect(summary.timings.load).toBeGreaterThan(0);
    // --model names a test model folder: the notice names it, and does not suggest passing --model.
    expect(ra.stderr).toContain(`edit: ${tiny} is a random-weight test model; results are noise, not images.`);
    expect(ra.stderr).not.toContain('Pass --model');
    const meta = await sharp(a).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 512]);
    expect(await readParameters(a)).toMatchObject({ prompt: 'an astronaut on mars', seed: 7, steps: 2, strength: 0.75, method: 'img2img' });
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
  });

  it('runs the torch-layout model on an odd-size photo (451×300 in, 451×300 out), dumping tensors', async () => {
    const out = path.join(tmp, 'chelsea.png');
    const dump = path.join(tmp, 'dump');
    const r = await edit('--image', CHELSEA, '--prompt', 'a cat', '--model', torch, '--steps', '2', '--strength', '1', '--seed', '3', '--guidance', '1', '--dump', dump, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ width: 451, height: 300, seed: 3 });
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([451, 300]);
    // 451×300 runs at 448×304: latents [1, 4, 38, 56]; guidance 1 encodes one prompt.
    expect(fs.readdirSync(dump).sort()).toEqual(['final_latents.npy', 'initial_latents.npy', 'text_embeddings.npy']);
    const header = (f: string) => fs.readFileSync(path.join(dump, f)).subarray(10, 128).toString('latin1');
    expect(header('initial_latents.npy')).toContain("'shape': (1, 4, 38, 56)");
    expect(header('text_embeddings.npy')).toContain("'shape': (1, 77, 32)");
  });

  it('bad input: exit ≠ 0, one line on stderr, no output file', async () => {
    const out = path.join(tmp, 'never.png');
    const textPng = path.join(tmp, 'notes.png');
    fs.writeFileSync(textPng, 'these are notes, not pixels\n');
    const noUnet = path.join(tmp, 'no-unet');
    fs.cpSync(tiny, noUnet, { recursive: true });
    fs.rmSync(path.join(noUnet, 'unet', 'model.onnx'));
    const truncated = path.join(tmp, 'truncated');
    fs.cpSync(tiny, truncated, { recursive: true });
    fs.truncateSync(path.join(truncated, 'unet', 'model.onnx_data'), 4096);
    const noise = path.join(tmp, 'noise.npy');
    fs.writeFileSync(noise, encodeNpy({ data: new Float32Array(4 * 8 * 8), shape: [1, 4, 8, 8] }));

    const cases: [string[], string][] = [
      [['--image', path.join(tmp, 'missing.png')], 'missing.png'],
      [['--image', textPng], 'notes.png'],
      [['--image', ASTRONAUT, '--strength', '1.5'], 'strength is 1.5'],
      [['--image', ASTRONAUT, '--model', noUnet], path.join('unet', 'model.onnx')],
      [['--image', ASTRONAUT, '--model', truncated], 'model.onnx_data'],
      [['--image', ASTRONAUT, '--noise', noise], 'shape [1, 4, 64, 64]'],
    ];
    const runs = await Promise.all(cases.map(([args]) => edit('--prompt', 'x', '--steps', '2', ...args, '--out', out, '--dump', path.join(tmp, 'no-dump'))));
    runs.forEach((r, i) => {
      const lines = r.stderr.trimEnd().split('\n');
      expect(r.code, r.stderr).not.toBe(0);
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^edit: /);
      expect(lines[0]).toContain(cases[i][1]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    });
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(path.join(tmp, 'no-dump'))).toBe(false);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('never') || f.includes('.tmp'))).toEqual([]);
  });
});
