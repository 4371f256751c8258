import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPentimentoError } from '../../../main/engine/errors';
import { editInversion } from '../../../main/engine/inversion/editInversion';
import { guidedLoss, guidedLossTerms } from '../../../main/engine/inversion/guidedLoss';
import type { Inversion } from '../../../main/engine/inversion/Inversion';
import { checkInversionSettings, type InversionSettings } from '../../../main/engine/inversion/InversionSettings';
import { embedPrompt, inversionScheduler, invertPhoto } from '../../../main/engine/inversion/invertPhoto';
import { latentMse } from '../../../main/engine/inversion/latentMse';
import { UNetLossGradient } from '../../../main/engine/inversion/UNetLossGradient';
import { StableDiffusionModel } from '../../../main/engine/model/StableDiffusionModel';
import { CancellationSource } from '../../../main/engine/util/cancellation';
import { randomNormal } from '../../../main/engine/util/random';
import { testModelDir } from '../../fixtures/models';
import { maxAbsDiff, photoLatent, smallPhoto, testDerivedModels } from './fixtures';

const SOURCE = 'a photo of an astronaut';

describe('inversion on the tiny model (64×64 photo)', () => {
  let model: StableDiffusionModel;
  let lossGradient: UNetLossGradient;
  let z0: Float32Array;
  const invert = async (settings: Partial<InversionSettings>, extra: { lossGradient?: UNetLossGradient; cancel?: CancellationSource } = {}) => {
    const run = await invertPhoto(model, {
      z0,
      latentHeight: 8,
      latentWidth: 8,
      settings: checkInversionSettings(settings),
      targetPrompt: 'a cat',
      lossGradient: extra.lossGradient ?? lossGradient,
      cancel: extra.cancel?.token,
    });
    const photo = { width: 64, height: 64, fittedWidth: 64, fittedHeight: 64 };
    return { ...run, key: '0'.repeat(24), model: { name: 'tiny', hash: model.folder.hash }, photo } satisfies Inversion;
  };

  beforeAll(async () => {
    model = await StableDiffusionModel.load(await testModelDir('tiny'), { provider: 'cpu' });
    lossGradient = await UNetLossGradient.open(model, testDerivedModels());
    z0 = await photoLatent(model, await smallPhoto());
  });
  afterAll(async () => {
    await lossGradient?.dispose();
    await model?.dispose();
  });

  it('the loss gradient w.r.t. the tuned embedding matches central finite differences (PTI and null-text forms)', async () => {
    const { unet } = model.components;
    const ddim = await invert({ method: 'ddim', steps: 4, sourcePrompt: SOURCE });
    const scheduler = inversionScheduler(model, 4);
    const i = 1;
    const t = scheduler.timesteps[i];
    const z = ddim.trajectory[4 - i];
    const target = ddim.trajectory[3 - i];
    const step = scheduler.stepCoefficients(i);
    const empty = await embedPrompt(model, '');
    const source = await embedPrompt(model, SOURCE);
    const dims = empty.dims;
    const sampleDims = [1, 4, 8, 8];
    const w = 7.5;
    const predict = (c: Float32Array) => unet.predict(z, sampleDims, t, c, dims);
    const epsEmpty = await predict(empty.data);
    const epsSource = await predict(source.data);
    const forms = [
      // PTI tunes c: ε = (1 − w)·ε_∅ + w·ε(c)
      { name: 'pti', base: epsEmpty.map((v) => (1 - w) * v), k: w, at: source.data },
      // null-text tunes ∅: ε = w·ε(c_src) + (1 − w)·ε(∅)
      { name: 'nti', base: epsSource.map((v) => w * v), k: 1 - w, at: empty.data },
    ];
    for (const form of forms) {
      const terms = guidedLossTerms(step, z, target, form.base, form.k);
      const noise = randomNormal([form.at.length], 100);
      const c = form.at.map((v, n) => v + 0.1 * noise[n]);
      const r = await lossGradient.evaluate(z, sampleDims, t, c, dims, terms.scale, terms.residual);
      // The graph's loss and prediction agree with the plain UNet and the closed form.
      const eps = await predict(c);
      expect(maxAbsDiff(r.eps, eps)).toBeLessThan(1e-4);
      expect(Math.abs(r.loss - guidedLoss(terms, eps)) / guidedLoss(terms, eps)).toBeLessThan(1e-4);

      const loss = async (h: number, d: Float32Array) => guidedLoss(terms, await predict(c.map((v, n) => v + h * d[n])));
      for (let k = 0; k < 3; k++) {
        const d = randomNormal([c.length], 7 + k);
        const norm = Math.hypot(...d);
        for (let n = 0; n < d.length; n++) d[n] /= norm;
        let analytic = 0;
        for (let n = 0; n < d.length; n++) analytic += r.grad[n] * d[n];
        // Central differences, Richardson-extrapolated (O(h⁴) truncation). The UNet runs in float32,
        // so the step is large enough (h = 1 along a unit direction in 77×32 dims, ~0.02 per value)
        // that rounding in ε stays well below the 1e-3 bar; measured errors are 5e-5 … 7e-4.
        const h = 1;
        const central = async (s: number) => ((await loss(s, d)) - (await loss(-s, d))) / (2 * s);
        const numeric = (4 * (await central(h / 2)) - (await central(h))) / 3;
        const relErr = Math.abs(numeric - analytic) / Math.max(Math.abs(numeric), Math.abs(analytic));
        expect(relErr, `${form.name} direction ${k}: analytic ${analytic}, numeric ${numeric}`).toBeLessThan(1e-3);
      }
    }
  });

  describe('20 steps, guidance 7.5', () => {
    let pti: Inversion;
    let ddim: Inversion;
    beforeAll(async () => {
      pti = await invert({ method: 'pti', steps: 20, guidance: 7.5, sourcePrompt: SOURCE });
      ddim = await invert({ method: 'ddim', steps: 20, guidance: 7.5, sourcePrompt: SOURCE });
    }, 300_000);

    it('at η = 0 PTI reconstructs the photo latent far better than DDIM inversion, and retraces z̄', async () => {
      const ptiEdit = await editInversion(model, pti, { prompt: 'a cat', eta: 0 });
      const ddimEdit = await editInversion(model, ddim, { prompt: 'a cat', eta: 0 });
      const ptiMse = latentMse(ptiEdit.latent, z0);
      const ddimMse = latentMse(ddimEdit.latent, z0);
      console.info(`latent MSE at η = 0: PTI ${ptiMse.toExponential(3)}, DDIM ${ddimMse.toExponential(3)}, ratio ${(ptiMse / ddimMse).toFixed(3)}`);
      expect(ptiMse / ddimMse).toBeLessThan(0.5);
      // The edit at η = 0 walks the tuning's trajectory (batch-2 vs batch-1 runs differ by rounding only).
      expect(maxAbsDiff(ptiEdit.latent, pti.reconstruction[20])).toBeLessThan(1e-3);
      expect(pti.trajectory[0]).toBe(z0);
      expect(ddim.reconstruction[20]).toBe(z0);
    });

    it('the per-step loss decreases over the inner iterations on most steps', () => {
      const tuned = pti.stats.losses.filter((l) => l.length > 1);
      const decreased = tuned.filter((l) => l[l.length - 1] < l[0]);
      expect(tuned.length).toBeGreaterThan(10);
      expect(decreased.length / tuned.length).toBeGreaterThan(0.8);
      // Each step either ran every iteration or stopped below its threshold 1e-5 + i·2e-5.
      pti.stats.losses.forEach((l, i) => {
        if (l.length < 10) expect(l[l.length - 1]).toBeLessThan(1e-5 + i * 2e-5);
      });
      expect(pti.stats.vjpCalls).toBe(pti.stats.losses.reduce((n, l) => n + l.length, 0));
      expect(pti.embeddings).toHaveLength(20);
    });

    it('a mask keeps the reconstruction outside it and edits inside', async () => {
      const latentMask = new Float32Array(64).map((_, n) => (n % 8 >= 4 ? 1 : 0));
      const masked = await editInversion(model, pti, { prompt: 'a red sports car', eta: 1, latentMask });
      const free = await editInversion(model, pti, { prompt: 'a red sports car', eta: 1 });
      let inside = 0;
      for (let n = 0; n < masked.latent.length; n++) {
        if (latentMask[n % 64] === 0) expect(masked.latent[n]).toBe(pti.reconstruction[20][n]);
        else inside = Math.max(inside, Math.abs(masked.latent[n] - pti.reconstruction[20][n]));
      }
      expect(inside).toBeGreaterThan(1e-2);
      expect(maxAbsDiff(free.latent, pti.reconstruction[20])).toBeGreaterThan(1e-2);
    });
  });

  it('cancel stops within one inner iteration', async () => {
    const source = new CancellationSource();
    let calls = 0;
    const counting = {
      evaluate: async (...args: Parameters<UNetLossGradient['evaluate']>) => {
        const r = await lossGradient.evaluate(...args);
        if (++calls === 3) source.cancel();
        return r;
      },
    } as unknown as UNetLossGradient;
    const forwardBefore = model.components.unet.calls;
    const error = await invert({ method: 'pti', steps: 5, innerSteps: 10, sourcePrompt: SOURCE }, { lossGradient: counting, cancel: source }).catch((e) => e);
    expect(isPentimentoError(error) && error.code).toBe('CANCELLED');
    expect(calls).toBe(3);
    // 5 DDIM inversion runs and the first step's ε_∅: nothing after the cancel.
    expect(model.components.unet.calls - forwardBefore).toBe(6);
  });

  it('DDIM inversion is the exact inverse of the η = 0 edit step when the UNet is conditioned alike', async () => {
    const ddim = await invert({ method: 'ddim', steps: 3, guidance: 1, invertAt: 'to' });
    const scheduler = inversionScheduler(model, 3);
    // With ε evaluated at the same (z, t) both ways, one inversion step undone by one edit step is the identity.
    const empty = await embedPrompt(model, '');
    const z = ddim.trajectory[0];
    const eps = await model.components.unet.predict(z, [1, 4, 8, 8], scheduler.timesteps[2], empty.data, empty.dims);
    const { sampleCoef: a, outputCoef: b } = scheduler.stepCoefficients(2);
    const back = ddim.trajectory[1].map((v, n) => a * v + b * eps[n]);
    expect(maxAbsDiff(back, z)).toBeLessThan(1e-5);
  });
});
