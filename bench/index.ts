/**
 * `npm run bench`: the tiny and the full-size generated model on this machine — model load,
 * UNet ms/step, pipeline wall time ÷ time inside onnxruntime, the UNet VJP against its forward
 * pass, peak RSS — as Markdown on stdout and JSON in bench/results/. Each measurement runs in a
 * fresh child process (see measure.ts); one that fails becomes a row saying why.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../main/cli/cliUtil';
import { GENERATOR_VERSION } from '../models/generate';
import type { PresetName } from '../models/presets';
import type { BenchReport, PresetReport, VjpAtSize } from './BenchReport';
import type { BenchTask, GenerateResult, PipelineMeasurement, UnetRunMeasurement, VjpBuildMeasurement } from './BenchTask';
import { describeMachine } from './describeMachine';
import { formatTables } from './formatTables';
import { availableMemory, parseBenchArgs, USAGE, type BenchOptions } from './parseBenchArgs';
import { REPO_ROOT, failedForMemory, runMeasurement, type ChildLimits } from './runMeasurement';

const GiB = 2 ** 30;
/** The full UNet's VJP keeps every forward activation; where 512² does not fit, 256² still says how it scales. */
const VJP_FALLBACK_SIZE = 256;
/**
 * Each model timed in its steady state, with the session options it runs with in the app: the
 * forward pass with onnxruntime's memory pattern, whose planned block is first allocated (and
 * page-faulted in) on the second run, hence two warm-ups; the VJP without it (SessionTuning), so
 * the second run is already steady.
 */
const FORWARD_RUN = { warmups: 2, memoryPattern: true };
const VJP_RUN = { warmups: 1, memoryPattern: false };

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function limits(options: BenchOptions): ChildLimits {
  return { timeoutMs: options.timeoutMs, memoryLimitBytes: options.memoryLimitBytes ?? Math.max(GiB, availableMemory() - GiB) };
}

async function measure<M extends GenerateResult | PipelineMeasurement | VjpBuildMeasurement | UnetRunMeasurement>(
  label: string,
  task: BenchTask,
  options: BenchOptions,
) {
  log(`${label}…`);
  const outcome = await runMeasurement<M>(task, limits(options));
  log(`${label}: ${outcome.ok ? 'done' : `failed: ${outcome.reason}`} in ${(outcome.wallMs / 1000).toFixed(1)} s`);
  return outcome;
}

async function benchPreset(preset: PresetName, options: BenchOptions): Promise<PresetReport> {
  const root = path.join(options.modelsDir, `v${GENERATOR_VERSION}`);
  const dir = path.join(root, preset);
  const provider = options.provider;
  const generate = await measure<GenerateResult>(`${preset}: model folder`, { kind: 'generate', preset, dir }, options);
  const report: PresetReport = { preset, generate, vjp: [] };
  if (!generate.ok) return report;

  report.pipeline = await measure<PipelineMeasurement>(
    `${preset}: txt2img ${options.size}² × ${options.steps[preset]} steps`,
    { kind: 'pipeline', dir, size: options.size, steps: options.steps[preset], warmup: options.warmup[preset], provider },
    options,
  );

  const unetFile = path.join(dir, 'unet', 'model.onnx');
  const derivedFile = path.join(root, `${preset}-derived`, 'unet-vjp-encoder_hidden_states', 'model.onnx');
  report.vjpBuild = await measure<VjpBuildMeasurement>(`${preset}: VJP model build`, { kind: 'vjp-build', unetFile, outFile: derivedFile }, options);
  if (!report.vjpBuild.ok) return report;

  const sizes = options.size > VJP_FALLBACK_SIZE ? [options.size, VJP_FALLBACK_SIZE] : [options.size];
  const repeats = options.repeats[preset];
  for (const size of sizes) {
    const run = (file: string, tuning: Pick<Extract<BenchTask, { kind: 'unet-run' }>, 'warmups' | 'memoryPattern'>): BenchTask => ({
      kind: 'unet-run',
      file,
      size,
      repeats,
      provider,
      threads: options.threads,
      ...tuning,
    });
    const attempt: VjpAtSize = {
      size,
      forward: await measure<UnetRunMeasurement>(`${preset}: UNet forward ${size}²`, run(unetFile, FORWARD_RUN), options),
    };
    report.vjp.push(attempt);
    if (attempt.forward.ok) attempt.vjp = await measure<UnetRunMeasurement>(`${preset}: UNet VJP ${size}²`, run(derivedFile, VJP_RUN), options);
    const failed = !attempt.forward.ok ? attempt.forward : attempt.vjp && !attempt.vjp.ok ? attempt.vjp : undefined;
    if (!failed || !failedForMemory(failed)) break;
  }
  return report;
}

/** bench/inversion.ts belongs to the inversion work; run it only when it exists and exports the entry point. */
async function runInversion(options: BenchOptions): Promise<unknown> {
  const file = path.join(REPO_ROOT, 'bench', 'inversion.ts');
  if (!fs.existsSync(file)) return { skipped: 'bench/inversion.ts does not exist yet' };
  const mod = (await import(pathToFileURL(file).href)) as { runInversionBench?: (o: unknown) => unknown };
  if (typeof mod.runInversionBench !== 'function') return { skipped: 'bench/inversion.ts does not export runInversionBench' };
  try {
    return await mod.runInversionBench({
      presets: options.presets,
      size: options.size,
      provider: options.provider,
      modelsDir: path.join(options.modelsDir, `v${GENERATOR_VERSION}`),
    });
  } catch (e) {
    return { failed: e instanceof Error ? e.message : String(e) };
  }
}

function defaultJsonPath(date: string): string {
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(REPO_ROOT, 'bench', 'results', `${date.slice(0, 19).replace(/:/g, '-')}-${host}.json`);
}

async function main(): Promise<void> {
  const options = parseBenchArgs(process.argv.slice(2), REPO_ROOT);
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const date = new Date().toISOString();
  const machine = describeMachine();
  const presets: PresetReport[] = [];
  for (const preset of options.presets) presets.push(await benchPreset(preset, options));
  const report: BenchReport = {
    date,
    machine,
    options: {
      size: options.size,
      steps: pick(options.steps, options.presets),
      warmup: pick(options.warmup, options.presets),
      repeats: pick(options.repeats, options.presets),
      provider: options.provider,
      threads: options.threads,
      memoryLimitGiB: (options.memoryLimitBytes ?? Math.max(GiB, availableMemory() - GiB)) / GiB,
    },
    presets,
  };
  if (options.inversion) report.inversion = await runInversion(options);

  let text = formatTables(report);
  if (report.inversion !== undefined) {
    text += `\n## Inversion\n\n${typeof report.inversion === 'string' ? report.inversion : `\`\`\`json\n${JSON.stringify(report.inversion, null, 2)}\n\`\`\``}\n`;
  }
  process.stdout.write(text);
  const jsonFile = path.resolve(options.jsonOut ?? defaultJsonPath(date));
  fs.mkdirSync(path.dirname(jsonFile), { recursive: true });
  fs.writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${jsonFile}`);
}

function pick(values: Record<PresetName, number>, presets: PresetName[]): Record<string, number> {
  return Object.fromEntries(presets.map((p) => [p, values[p]]));
}

void runCli('bench', main);
