import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { msSsim, msSsimScales, MS_SSIM_WEIGHTS } from '../../../../main/engine/control/metrics/msSsim';
import { ssim, ssimComponents } from '../../../../main/engine/control/metrics/ssim';
import { loadImage } from '../../../../main/engine/image/loadImage';
import { Rng } from '../../../../main/engine/util/random';
import { numpyRandn } from './numpyRandomState';

const C1 = 0.01 ** 2;

function randomImage(seed: number, n: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.uniform());
}

/** Wang et al.'s SSIM straight from the definition: at every window position, weighted sums over its 121 pixels. */
function naiveSsim(a: Float64Array, b: Float64Array, width: number, height: number): { ssim: number; cs: number } {
  const r = 5;
  const g = Array.from({ length: 11 }, (_, k) => Math.exp(-((k - r) ** 2) / (2 * 1.5 ** 2)));
  const gs = g.reduce((s, v) => s + v, 0);
  const c2 = 0.03 ** 2;
  let ssimSum = 0;
  let csSum = 0;
  let count = 0;
  for (let y = r; y < height - r; y++) {
    for (let x = r; x < width - r; x++) {
      let mx = 0;
      let my = 0;
      for (let j = -r; j <= r; j++) {
        for (let i = -r; i <= r; i++) {
          const w = (g[i + r] * g[j + r]) / (gs * gs);
          mx += w * a[(y + j) * width + x + i];
          my += w * b[(y + j) * width + x + i];
        }
      }
      let vx = 0;
      let vy = 0;
      let vxy = 0;
      for (let j = -r; j <= r; j++) {
        for (let i = -r; i <= r; i++) {
          const w = (g[i + r] * g[j + r]) / (gs * gs);
          const dx = a[(y + j) * width + x + i] - mx;
          const dy = b[(y + j) * width + x + i] - my;
          vx += w * dx * dx;
          vy += w * dy * dy;
          vxy += w * dx * dy;
        }
      }
      const cs = (2 * vxy + c2) / (vx + vy + c2);
      ssimSum += ((2 * mx * my + C1) / (mx * mx + my * my + C1)) * cs;
      csSum += cs;
      count++;
    }
  }
  return { ssim: ssimSum / count, cs: csSum / count };
}

describe('ssim', () => {
  it('equals a direct per-window evaluation of Wang et al. eq. 13 on an image and a noisy copy', () => {
    const [w, h] = [23, 19];
    const a = randomImage(7, w * h);
    const noise = randomImage(8, w * h);
    const b = a.map((v, i) => Math.min(1, Math.max(0, v + 0.8 * (noise[i] - 0.5))));
    const expected = naiveSsim(a, b, w, h);
    const got = ssimComponents(a, b, w, h);
    expect(got.ssim).toBeCloseTo(expected.ssim, 12);
    expect(got.cs).toBeCloseTo(expected.cs, 12);
    expect(got.ssim).toBeGreaterThan(0.1);
    expect(got.ssim).toBeLessThan(0.95);
  });

  it('gives the luminance term alone for two constant images: (2μxμy + C1)/(μx² + μy² + C1)', () => {
    const a = new Float64Array(16 * 16).fill(0.3);
    const b = new Float64Array(16 * 16).fill(0.5);
    const expected = (2 * 0.3 * 0.5 + C1) / (0.09 + 0.25 + C1);
    const got = ssimComponents(a, b, 16, 16);
    expect(got.cs).toBeCloseTo(1, 12);
    expect(got.ssim).toBeCloseTo(expected, 12);
  });

  it('is 1 exactly for identical images', () => {
    const a = randomImage(3, 40 * 30);
    expect(ssim(a, a, 40, 30)).toBe(1);
  });

  it('rejects images smaller than the window', () => {
    expect(() => ssim(new Float64Array(100), new Float64Array(100), 10, 10)).toThrow(/at least that large/);
  });

  describe('scikit-image reference values (camera vs. camera + N(0, 20²) noise, numpy RandomState(5))', () => {
    // tests/skimage/metrics/test_structural_similarity.py in scikit-image builds
    //   cam_noisy = clip(cam + 20·RandomState(5).randn(512, 512), 0, 255).astype(uint8)
    // and asserts test_mssim_vs_legacy: SSIM = 0.3674518327910367 with the default 7×7 uniform
    // window, sample covariance, data range 255 (7 decimals); and
    // test_gaussian_structural_similarity_vs_IPOL: 0.357959091663361 with the 11×11 σ 1.5
    // Gaussian window and population covariance, matching IPOL's imdiff (3 decimals).
    async function cameraPair(): Promise<{ cam: Float64Array; noisy: Float64Array }> {
      const image = await loadImage(path.resolve(process.cwd(), 'tests/fixtures/photos/camera.png'));
      expect([image.width, image.height]).toEqual([512, 512]);
      const cam = Float64Array.from({ length: 512 * 512 }, (_, i) => image.rgb[i * 3]);
      const randn = numpyRandn(5, 512 * 512);
      const noisy = cam.map((v, i) => Math.trunc(Math.min(255, Math.max(0, v + 20 * randn[i]))));
      return { cam, noisy };
    }

    it('matches the 7×7 uniform-window value to 7 decimals', async () => {
      const { cam, noisy } = await cameraPair();
      const value = ssim(cam, noisy, 512, 512, { window: { uniform: 7 }, sampleCovariance: true, dataRange: 255 });
      expect(value).toBeCloseTo(0.3674518327910367, 7);
    });

    it('matches the Gaussian-window (IPOL) value to 3 decimals, on 0…255 and on 0…1', async () => {
      const { cam, noisy } = await cameraPair();
      expect(ssim(cam, noisy, 512, 512, { dataRange: 255 })).toBeCloseTo(0.357959091663361, 3);
      const unit = (m: Float64Array) => m.map((v) => v / 255);
      expect(ssim(unit(cam), unit(noisy), 512, 512)).toBeCloseTo(0.357959091663361, 3);
    });
  });
});

describe('msSsim', () => {
  it('is 1 exactly for identical images (camera, 5 scales)', async () => {
    const image = await loadImage(path.resolve(process.cwd(), 'tests/fixtures/photos/camera.png'));
    const gray = Float64Array.from({ length: 512 * 512 }, (_, i) => image.rgb[i * 3] / 255);
    expect(msSsimScales(512, 512, 11)).toBe(5);
    expect(msSsim(gray, gray, 512, 512)).toBe(1);
  });

  it('is the coarsest luminance term to the power 0.1333 for constant images (every cs is 1)', () => {
    const n = 200 * 180;
    const a = new Float64Array(n).fill(0.3);
    const b = new Float64Array(n).fill(0.5);
    const l = (2 * 0.3 * 0.5 + C1) / (0.09 + 0.25 + C1);
    expect(msSsimScales(200, 180, 11)).toBe(5);
    expect(msSsim(a, b, 200, 180)).toBeCloseTo(l ** 0.1333, 12);
  });

  it('uses as many scales as fit in a small image, with the weights renormalised', () => {
    // 100 → 50 → 25 → 12 fit an 11×11 window; 6 does not.
    expect(msSsimScales(100, 120, 11)).toBe(4);
    const a = new Float64Array(100 * 120).fill(0.2);
    const b = new Float64Array(100 * 120).fill(0.6);
    const l = (2 * 0.2 * 0.6 + C1) / (0.04 + 0.36 + C1);
    const w = MS_SSIM_WEIGHTS;
    expect(msSsim(a, b, 100, 120)).toBeCloseTo(l ** (w[3] / (w[0] + w[1] + w[2] + w[3])), 12);
    expect(() => msSsim(new Float64Array(100), new Float64Array(100), 10, 10)).toThrow(/at least 11×11/);
  });

  it('combines the per-scale terms of 2×-average-pooled images by the published exponents', () => {
    const [w, h] = [180, 176];
    const a = randomImage(11, w * h);
    const noise = randomImage(12, w * h);
    const b = a.map((v, i) => 0.7 * v + 0.3 * noise[i]);
    const pool = (m: Float64Array, mw: number, mh: number) => {
      const [ow, oh] = [Math.floor(mw / 2), Math.floor(mh / 2)];
      const out = new Float64Array(ow * oh);
      for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) {
        out[y * ow + x] = (m[2 * y * mw + 2 * x] + m[2 * y * mw + 2 * x + 1] + m[(2 * y + 1) * mw + 2 * x] + m[(2 * y + 1) * mw + 2 * x + 1]) / 4;
      }
      return out;
    };
    let [x, y, sw, sh] = [a, b, w, h];
    let expected = 1;
    for (let k = 0; k < 5; k++) {
      const naive = naiveSsim(x, y, sw, sh);
      expected *= (k === 4 ? naive.ssim : naive.cs) ** MS_SSIM_WEIGHTS[k];
      [x, y] = [pool(x, sw, sh), pool(y, sw, sh)];
      [sw, sh] = [Math.floor(sw / 2), Math.floor(sh / 2)];
    }
    expect(msSsim(a, b, w, h)).toBeCloseTo(expected, 12);
  });
});
