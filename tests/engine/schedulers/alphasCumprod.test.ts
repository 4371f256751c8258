import { describe, expect, it } from 'vitest';
import { addNoiseAtTimestep, alphasCumprodFor, betasFor } from '../../../main/engine/schedulers/alphasCumprod';
import { resolveSchedulerConfig } from '../../../main/engine/schedulers/SchedulerConfig';

const sd15 = resolveSchedulerConfig({});

describe('betasFor / alphasCumprodFor', () => {
  it('gives the scaled-linear β_i = (√β₀ + i/(N−1)(√β₁ − √β₀))² of SD1.5', () => {
    const betas = betasFor(sd15);
    expect(betas.length).toBe(1000);
    expect(betas[0]).toBeCloseTo(0.00085, 15);
    expect(betas[999]).toBeCloseTo(0.012, 15);
    const i = 500;
    const expected = (Math.sqrt(0.00085) + (500 / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085))) ** 2;
    expect(betas[i]).toBeCloseTo(expected, 15);
  });

  it('gives ᾱ at 0, 1 and 999 as products of (1 − β) computed here', () => {
    const ac = alphasCumprodFor(sd15);
    const b = (i: number) => (Math.sqrt(0.00085) + (i / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085))) ** 2;
    expect(ac[0]).toBeCloseTo(1 - 0.00085, 15);
    expect(ac[1]).toBeCloseTo((1 - 0.00085) * (1 - b(1)), 15);
    let logSum = 0;
    for (let i = 0; i < 1000; i++) logSum += Math.log1p(-b(i));
    expect(ac[999] / Math.exp(logSum)).toBeCloseTo(1, 12);
    // The same schedule in float32 as diffusers computes it (numpy linspace → square → cumprod): 0.0046600895.
    expect(ac[999]).toBeCloseTo(0.0046600895, 7);
  });

  it('gives the linear schedule β_i = β₀ + i/(N−1)(β₁ − β₀)', () => {
    const config = resolveSchedulerConfig({ beta_schedule: 'linear', beta_start: 0.0001, beta_end: 0.02, num_train_timesteps: 1000 });
    const betas = betasFor(config);
    expect(betas[0]).toBeCloseTo(0.0001, 15);
    expect(betas[999]).toBeCloseTo(0.02, 15);
    expect(betas[333]).toBeCloseTo(0.0001 + (333 / 999) * (0.02 - 0.0001), 15);
  });

  it('gives the cosine schedule ᾱ_t ≈ cos²((t/N + 0.008)/1.008·π/2)/cos²(0.008/1.008·π/2) where β is not capped', () => {
    const config = resolveSchedulerConfig({ beta_schedule: 'squaredcos_cap_v2' });
    const ac = alphasCumprodFor(config);
    const f = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [0, 100, 500, 900]) expect(ac[t]).toBeCloseTo(f((t + 1) / 1000) / f(0), 12);
  });

  it('uses trained_betas verbatim when given', () => {
    const trained = Array.from({ length: 10 }, (_, i) => 0.01 * (i + 1));
    const config = resolveSchedulerConfig({ num_train_timesteps: 10, trained_betas: trained });
    const ac = alphasCumprodFor(config);
    expect(ac[2]).toBeCloseTo(0.99 * 0.98 * 0.97, 15);
  });
});

describe('addNoiseAtTimestep', () => {
  it('is x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε at a train timestep', () => {
    const ac = alphasCumprodFor(sd15);
    const out = addNoiseAtTimestep(ac, Float32Array.from([1, -0.5]), Float32Array.from([0.25, 2]), 637);
    expect(out[0]).toBeCloseTo(Math.sqrt(ac[637]) + Math.sqrt(1 - ac[637]) * 0.25, 6);
    expect(out[1]).toBeCloseTo(-0.5 * Math.sqrt(ac[637]) + 2 * Math.sqrt(1 - ac[637]), 6);
  });
});
