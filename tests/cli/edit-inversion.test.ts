import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngTextChunks } from '../../main/engine/image/pngTextChunks';
import { readParameters } from '../../main/engine/image/readParameters';
import { testModelDir } from '../fixtures/models';

const ROOT = process.cwd();

let tmp: string;
let cacheRoot: string;
let tiny: string;
let photo: string;
let mask: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-edit-inversion-'));
  tiny = await testModelDir('tiny');
  // A fresh inversion cache, but the loss-gradient model the engine tests already derived
  // (derived models are keyed by the source's content hash, so sharing them is safe).
  cacheRoot = path.join(tmp, 'cache');
  const derived = path.join(ROOT, '.cache', 'test-derived');
  fs.mkdirSync(derived, { recursive: true });
  fs.mkdirSync(cacheRoot);
  fs.symlinkSync(derived, path.join(cacheRoot, 'derived'));
  photo = path.join(tmp, 'photo.png');
  await sharp(path.join(ROOT, 'tests/fixtures/photos/chelsea.png')).resize(72, 48).png().toFile(photo);
  mask = path.join(tmp, 'mask.png');
  const m = Buffer.alloc(72 * 48, 0).map((_, i) => (i % 72 >= 36 ? 255 : 0));
  await sharp(m, { raw: { width: 72, height: 48, channels: 1 } }).png().toFile(mask);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function edit(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'main/cli/edit.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, PENTIMENTO_PROVIDER: 'cpu', PENTIMENTO_CACHE_DIR: cacheRoot },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lastJson = (stdout: string) => JSON.parse(stdout.trimEnd().split('\n').pop()!);

describe('npm run edit --method', () => {
  it('pti: inverts, edits, reports metrics; a second run with another η reuses the inversion', async () => {
    const out = path.join(tmp, 'pti.png');
    const common = ['--method', 'pti', '--image', photo, '--model', tiny, '--steps', '3', '--inner-steps', '2', '--source-prompt', 'a cat', '--json'];
    const first = await edit(...common, '--prompt', 'a dog', '--eta', '0.6', '--mask', mask, '--out', out);
    expect(first.code, first.stderr).toBe(0);
    const a = lastJson(first.stdout);
    expect(a).toMatchObject({ output: out, width: 72, height: 48, method: 'pti', eta: 0.6, steps: 3 });
    expect(a.metrics).toMatchObject({ inversion_cached: 0, edit_forward_calls: 3 });
    expect(a.metrics.unet_vjp_calls).toBeGreaterThan(0);
    expect(a.metrics.unet_vjp_calls).toBeLessThanOrEqual(6);
    for (const k of ['latent_mse', 'psnr', 'inversion_ms', 'unet_forward_calls']) expect(Number.isFinite(a.metrics[k]), k).toBe(true);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([72, 48]);
    const params = await readParameters(out);
    expect(params?.method).toBe('prompt-tuning-inversion');
    expect(params?.extra).toMatchObject({ eta: 0.6, sourcePrompt: 'a cat', innerSteps: 2, inversionId: a.inversionId, masked: true });
    // Nothing is random in an inversion edit: no seed in the parameters or the A1111 text.
    expect(params).not.toHaveProperty('seed');
    const a1111 = readPngTextChunks(fs.readFileSync(out))?.find((c) => c.keyword === 'parameters')?.text;
    expect(a1111).toMatch(/Steps: 3, Sampler: ddim, CFG scale: 7\.5, Size: 72x48/);
    expect(a1111).not.toMatch(/Seed:/);

    const second = await edit(...common, '--prompt', 'a dog', '--eta', '0.2', '--out', path.join(tmp, 'pti2.png'));
    expect(second.code, second.stderr).toBe(0);
    const b = lastJson(second.stdout);
    expect(b.inversionId).toBe(a.inversionId);
    expect(b.metrics).toMatchObject({ inversion_cached: 1, unet_vjp_calls: 0, inversion_forward_calls: 0, edit_forward_calls: 3 });

    // PTI's tuning starts from the target prompt (--init target): another prompt is another
    // inversion, so a result never depends on which prompt ran first.
    const third = await edit(...common, '--prompt', 'a bird', '--eta', '0.2', '--out', path.join(tmp, 'pti3.png'));
    expect(third.code, third.stderr).toBe(0);
    const c = lastJson(third.stdout);
    expect(c.inversionId).not.toBe(a.inversionId);
    expect(c.metrics.inversion_cached).toBe(0);
    expect((await readParameters(path.join(tmp, 'pti3.png')))?.extra).toMatchObject({ initPrompt: 'a bird', inversionId: c.inversionId });

    // --inversion re-edits the first inversion towards the new prompt: only the edit runs, no --image needed.
    const reedit = await edit('--inversion', a.inversionId, '--prompt', 'a bird', '--eta', '0.2', '--model', tiny, '--out', path.join(tmp, 'pti4.png'), '--json');
    expect(reedit.code, reedit.stderr).toBe(0);
    const d = lastJson(reedit.stdout);
    expect(d).toMatchObject({ method: 'pti', inversionId: a.inversionId, eta: 0.2, width: 72, height: 48 });
    expect(d.metrics).toMatchObject({ inversion_cached: 1, unet_vjp_calls: 0, inversion_forward_calls: 0, edit_forward_calls: 3 });
    expect((await readParameters(path.join(tmp, 'pti4.png')))?.extra).toMatchObject({ initPrompt: 'a dog', inversionId: a.inversionId });
    // The same re-edit again: the same bytes.
    const again = await edit('--inversion', a.inversionId, '--prompt', 'a bird', '--eta', '0.2', '--model', tiny, '--out', path.join(tmp, 'pti5.png'));
    expect(again.code, again.stderr).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'pti5.png')).equals(fs.readFileSync(path.join(tmp, 'pti4.png')))).toBe(true);

    // The photo itself is taken (the one kept with the inversion), a mirrored one of the same size refused.
    const withPhoto = await edit('--inversion', a.inversionId, '--prompt', 'a bird', '--eta', '0.2', '--image', photo, '--model', tiny, '--out', path.join(tmp, 'pti6.png'));
    expect(withPhoto.code, withPhoto.stderr).toBe(0);
    const flipped = path.join(tmp, 'flipped.png');
    await sharp(photo).flop().png().toFile(flipped);

    // What --inversion cannot take is refused, naming it, with no file written.
    const refused = [
      [['--inversion', a.inversionId, '--prompt', 'x', '--steps', '4'], '--steps is fixed by the inversion --inversion re-edits'],
      [['--inversion', a.inversionId, '--prompt', 'x', '--seed', '4'], '--seed does not apply to --inversion'],
      [['--inversion', 'abc', '--prompt', 'x'], '--inversion is "abc"; give the inversionId of an earlier result'],
      [['--inversion', '0'.repeat(24), '--prompt', 'x'], `edit: --inversion: No inversion ${'0'.repeat(24)} in ${path.join(cacheRoot, 'inversions')}: it was never made here or has been removed; run --method again on the photo.`],
      [['--inversion', 'ab'.repeat(12), '--prompt', 'x'], /edit: --inversion: Inversion (ab){12} in .* is damaged \(its files cannot be read\); make it again by running --method again with the same settings, which replaces it\./],
      [['--inversion', a.inversionId, '--prompt', 'x', '--image', path.join(ROOT, 'tests/fixtures/photos/chelsea.png')], 'is 451×300 but inversion'],
      [['--inversion', a.inversionId, '--prompt', 'x', '--image', flipped], `--image ${flipped} is not the photo inversion ${a.inversionId} was made from (their pixels differ)`],
    ] as [string[], string | RegExp][];
    // A damaged entry: a copy of the first one under another id, with its trajectory cut short.
    const inversions = path.join(cacheRoot, 'inversions');
    fs.cpSync(path.join(inversions, a.inversionId), path.join(inversions, 'ab'.repeat(12)), { recursive: true });
    fs.truncateSync(path.join(inversions, 'ab'.repeat(12), 'trajectory.npy'), 100);
    for (const [args, message] of refused) {
      const r = await edit(...args, '--model', tiny, '--out', path.join(tmp, 'refused.png'));
      expect(r.code, r.stderr).toBe(2);
      if (typeof message === 'string') expect(r.stderr).toContain(message);
      else expect(r.stderr).toMatch(message);
      expect(fs.existsSync(path.join(tmp, 'refused.png'))).toBe(false);
    }
  }, 300_000);

  it('rejects flags that do not apply, naming them', async () => {
    const bad = [
      [['--method', 'sdedit', '--image', photo, '--prompt', 'x'], '--method is "sdedit"'],
      [['--method', 'pti', '--prompt', 'x'], '--method needs --image'],
      [['--method', 'pti', '--image', photo, '--prompt', 'x', '--strength', '0.5'], '--strength does not apply'],
      [['--method', 'pti', '--image', photo, '--prompt', 'x', '--eta', '2'], 'eta is 2'],
      [['--method', 'pti', '--image', photo, '--prompt', 'x', '--init', 'photo'], '--init is "photo"'],
      [['--image', photo, '--prompt', 'x', '--inner-steps', '3'], '--inner-steps applies to editing by inversion'],
      // Options of one method given to another were taken silently.
      [['--method', 'ddim', '--image', photo, '--prompt', 'x', '--inner-steps', '3'], '--inner-steps applies to --method pti and nti (the optimised inversions); ddim inverts without optimising.'],
      [['--method', 'ddim', '--image', photo, '--prompt', 'x', '--lr', '0.1'], '--lr applies to --method pti and nti'],
      [['--method', 'nti', '--image', photo, '--prompt', 'x', '--init', 'source'], '--init applies to --method pti (where its tuned prompt embedding starts), not nti.'],
      [['--method', 'ddim', '--image', photo, '--prompt', 'x', '--guidance', '31'], '--guidance is 31; use a number from 0 to 30.'],
    ] as const;
    for (const [args, message] of bad) {
      const r = await edit(...args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
    }
  }, 120_000);
});
