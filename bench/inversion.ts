/**
 * Time of one Prompt Tuning Inversion (PAPERS.md §2) on the generated models, CPU by default,
 * and its split between UNet forward runs (DDIM inversion, ε_∅ per step) and loss-gradient VJP
 * runs (the Adam iterations). Early stopping is off so every step runs its inner iterations and
 * the counts are the same on every machine; the last column scales the measured per-run times
 * to a default inversion (50 steps × 10 iterations, no early stop: an upper bound).
 *
 *   npx tsx bench/inversion.ts [--full] [--sizes 256,512] [--steps N] [--inner-steps N]
 *
 * `npm run bench -- --inversion` calls runInversionBench with its own options.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { DerivedModelCache } from '../main/engine/graph/DerivedModelCache';
import type { RgbImage } from '../main/engine/image/RgbImage';
import { rgbToTensor } from '../main/engine/image/rgbToTensor';
import { checkInversionSettings } from '../main/engine/inversion/InversionSettings';
import { invertPhoto } from '../main/engine/inversion/invertPhoto';
import { UNetLossGradient } from '../main/engine/inversion/UNetLossGradient';
import { StableDiffusionModel } from '../main/engine/model/StableDiffusionModel';
import { ensureGeneratedModel } from '../models/ensureGeneratedModel';
import { GENERATOR_VERSION } from '../models/generate';
import type { PresetName } from '../models/presets';
import { benchModelOptions } from './ensureBenchModel';

export interface InversionBenchOptions {
  /** Default ['tiny']; add 'full' for the SD1.5-size model (~4 GB generated on first use). */
  presets?: PresetName[];
  /** Image sides to time (default 256 and 512); `size` (from npm run bench) adds one. */
  sizes?: number[];
  size?: number;
  provider?: string;
  /** Folder holding the generated model folders `<preset>/` (default .cache/bench-models/v<generator>). */
  modelsDir?: string;
  /** Steps and inner iterations timed (defaults: tiny 10 × 10, full 2 × 3). */
  steps?: Partial<Record<PresetName, number>>;
  innerSteps?: Partial<Record<PresetName, number>>;
  log?: (line: string) => void;
}

export interface InversionBenchRow {
  preset: PresetName;
  size: number;
  steps: number;
  innerSteps: number;
  /** Opening the loss-gradient model: deriving it (when not cached) and creating its session. */
  openMs: number;
  derivedBuilt: boolean;
  inversionMs: number;
  forwardCalls: number;
  forwardMs: number;
  vjpCalls: number;
  vjpMs: number;
  /** 50 steps × 10 iterations at the measured per-run times, s. */
  defaultInversionEstimateS: number;
  error?: string;
}

const DEFAULT_STEPS: Record<PresetName, number> = { tiny: 10, full: 2 };
const DEFAULT_INNER: Record<PresetName, number> = { tiny: 10, full: 3 };

/** A smooth synthetic photo: the bench needs pixels, not content. */
function syntheticPhoto(size: number): RgbImage {
  const rgb = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      rgb[i] = (x * 255) / size;
      rgb[i + 1] = (y * 255) / size;
      rgb[i + 2] = 128 + 100 * Math.sin((x + y) / 17);
    }
  }
  return { rgb, width: size, height: size };
}

export async function measureInversion(dir: string, preset: PresetName, size: number, steps: number, innerSteps: number, opts: { provider?: string; derived: DerivedModelCache }): Promise<InversionBenchRow> {
  const model = await StableDiffusionModel.load(dir, { provider: opts.provider ?? 'cpu' });
  try {
    const t0 = performance.now();
    const lossGradient = await UNetLossGradient.open(model, opts.derived);
    const openMs = performance.now() - t0;
    try {
      const photo = syntheticPhoto(size);
      const z0 = await model.components.vae_encoder.encode(rgbToTensor(photo.rgb, size, size), size, size);
      const settings = checkInversionSettings({ method: 'pti', steps, innerSteps, earlyStop: 0, earlyStopSlope: 0, sourcePrompt: 'a photo' });
      const run = await invertPhoto(model, { z0, latentHeight: size / 8, latentWidth: size / 8, settings, targetPrompt: 'a painting', lossGradient });
      const s = run.stats;
      const perForward = s.forwardMs / Math.max(1, s.forwardCalls);
      const perVjp = s.vjpMs / Math.max(1, s.vjpCalls);
      // Default inversion: 50 inversion runs, 50 ε_∅ runs, 500 VJP runs, 50 final forward runs.
      const estimate = (150 * perForward + 500 * perVjp) / 1000;
      return {
        preset,
        size,
        steps,
        innerSteps,
        openMs,
        derivedBuilt: lossGradient.built,
        inversionMs: s.ms,
        forwardCalls: s.forwardCalls,
        forwardMs: s.forwardMs,
        vjpCalls: s.vjpCalls,
        vjpMs: s.vjpMs,
        defaultInversionEstimateS: estimate,
      };
    } finally {
      await lossGradient.dispose();
    }
  } finally {
    await model.dispose();
  }
}

export function formatInversionTable(rows: InversionBenchRow[]): string {
  const f = (v: number, d = 0) => v.toFixed(d);
  const lines = [
    '| model | size | steps × iters | open VJP model (s) | inversion (s) | forward runs | ms/forward | VJP runs | ms/VJP | VJP ÷ forward | forward / VJP share of inversion | default 50×10 est. (s) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (r.error) {
      lines.push(`| ${r.preset} | ${r.size}² | ${r.steps} × ${r.innerSteps} | failed: ${r.error} |||||||||`);
      continue;
    }
    const pf = r.forwardMs / Math.max(1, r.forwardCalls);
    const pv = r.vjpMs / Math.max(1, r.vjpCalls);
    lines.push(
      `| ${r.preset} | ${r.size}² | ${r.steps} × ${r.innerSteps} | ${f(r.openMs / 1000, 1)}${r.derivedBuilt ? ' (built)' : ''} | ${f(r.inversionMs / 1000, 2)} | ${r.forwardCalls} | ${f(pf, 1)} | ${r.vjpCalls} | ${f(pv, 1)} | ${f(pv / pf, 2)} | ${f((100 * r.forwardMs) / r.inversionMs)}% / ${f((100 * r.vjpMs) / r.inversionMs)}% | ${f(r.defaultInversionEstimateS, 1)} |`,
    );
  }
  return lines.join('\n');
}

/** Times one inversion per (preset, size); returns the Markdown table (rows in `rows`). */
export async function runInversionBench(opts: InversionBenchOptions = {}): Promise<string> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[bench inversion] ${line}\n`));
  const presets = opts.presets ?? ['tiny'];
  const sizes = [...new Set([...(opts.sizes ?? [256, 512]), ...(opts.size ? [opts.size] : [])])].sort((a, b) => a - b);
  const modelsDir = opts.modelsDir ?? path.resolve('.cache', 'bench-models', `v${GENERATOR_VERSION}`);
  const derived = new DerivedModelCache(path.join(modelsDir, 'derived'));
  const rows: InversionBenchRow[] = [];
  for (const preset of presets) {
    const dir = await ensureGeneratedModel(path.join(modelsDir, preset), benchModelOptions(preset));
    const steps = opts.steps?.[preset] ?? DEFAULT_STEPS[preset];
    const inner = opts.innerSteps?.[preset] ?? DEFAULT_INNER[preset];
    for (const size of sizes) {
      log(`${preset} ${size}²: ${steps} steps × ${inner} iterations…`);
      try {
        rows.push(await measureInversion(dir, preset, size, steps, inner, { provider: opts.provider, derived }));
      } catch (e) {
        rows.push({ preset, size, steps, innerSteps: inner, openMs: 0, derivedBuilt: false, inversionMs: 0, forwardCalls: 0, forwardMs: 0, vjpCalls: 0, vjpMs: 0, defaultInversionEstimateS: 0, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  lastRows = rows;
  return formatInversionTable(rows);
}

/** The rows behind the last table runInversionBench returned. */
export let lastRows: InversionBenchRow[] = [];

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { full: { type: 'boolean' }, sizes: { type: 'string' }, steps: { type: 'string' }, 'inner-steps': { type: 'string' }, provider: { type: 'string' } },
  });
  const presets: PresetName[] = values.full ? ['tiny', 'full'] : ['tiny'];
  const each = (v: string | undefined) => (v ? Object.fromEntries(presets.map((p) => [p, Number(v)])) : undefined);
  const table = await runInversionBench({
    presets,
    sizes: values.sizes ? values.sizes.split(',').map(Number) : undefined,
    steps: each(values.steps),
    innerSteps: each(values['inner-steps']),
    provider: values.provider,
  });
  process.stdout.write(`${table}\n`);
}
