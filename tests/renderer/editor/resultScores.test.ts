import { describe, expect, it } from 'vitest';
import type { ConsistencyResult } from '../../../main/contract/contract';
import { consistencyExplanation, consistencyLabel, inversionMetricsLabel, rankingLabel, resultScores } from '../../../renderer/src/editor/resultScores';

const canny: ConsistencyResult = { type: 'canny', metric: 'f1', value: 0.4249, higherIsBetter: true };

describe('resultScores', () => {
  it('takes the job\'s scores, else those saved in the parameters, ignoring malformed ones', () => {
    expect(resultScores({}, { consistency: canny, metrics: { consistency: 0.4249 } })).toEqual({ consistency: canny });
    expect(resultScores({ extra: { consistency: canny } })).toEqual({ consistency: canny });
    expect(resultScores({ extra: { consistency: { ...canny, value: 'high' } } })).toEqual({});
    const inv = resultScores({ extra: { eta: 0, inversionId: 'abc', metrics: { latent_mse: 0.002, psnr: 31.25, bogus: 'x' } } });
    expect(inv).toEqual({ eta: 0, inversionId: 'abc', metrics: { latent_mse: 0.002, psnr: 31.25 } });
    expect(resultScores({ extra: { eta: 0.5 } }, { metrics: { psnr: 20 }, inversionId: 'id' })).toEqual({ eta: 0.5, metrics: { psnr: 20 }, inversionId: 'id' });
  });

  it('labels consistency by type and metric, RMSE on 0–255 with one decimal', () => {
    expect(consistencyLabel(canny)).toBe('Canny F1 0.42');
    expect(consistencyLabel({ type: 'softedge', metric: 'ms_ssim', value: 0.915, higherIsBetter: true })).toBe('Soft edge MS-SSIM 0.92');
    expect(consistencyLabel({ type: 'depth', metric: 'rmse', value: 37.26, higherIsBetter: false })).toBe('Depth RMSE 37.3');
    expect(consistencyLabel({ type: 'segmentation', metric: 'miou', value: 0.5, higherIsBetter: true })).toBe('Segmentation mIoU 0.50');
    expect(consistencyExplanation({ type: 'depth', metric: 'rmse', value: 37, higherIsBetter: false })).toMatch(/Lower is better\.$/);
    expect(consistencyExplanation(canny)).toMatch(/^F1 score .*Higher is better\.$/);
  });

  it('shows a best-of ranking best first, and nothing for a single seed', () => {
    const ranked = { ...canny, ranked: [{ seed: 7, value: 0.4249 }, { seed: 5, value: 0.31 }, { seed: 6, value: 0.1 }] };
    expect(rankingLabel(ranked)).toBe('seed 7: 0.42 · seed 5: 0.31 · seed 6: 0.10');
    expect(consistencyExplanation(ranked)).toMatch(/Best of 3 seeds: this is the most consistent\.$/);
    expect(rankingLabel({ ...canny, ranked: [{ seed: 7, value: 0.4 }] })).toBeUndefined();
  });

  it('writes an inversion\'s metrics as latent MSE and PSNR', () => {
    expect(inversionMetricsLabel({ latent_mse: 0.0012, psnr: 41.46 })).toBe('latent MSE 1.2e-3 · PSNR 41.5 dB');
    expect(inversionMetricsLabel({ latent_mse: 0.05 })).toBe('latent MSE 0.050');
    expect(inversionMetricsLabel({ edit_forward_calls: 3 })).toBeUndefined();
  });
});
