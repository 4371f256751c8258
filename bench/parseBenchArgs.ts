import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { badArgument } from '../main/engine/errors';
import { parseCliArgs } from '../main/cli/cliUtil';
import type { PresetName } from '../models/presets';

export const USAGE = `Usage: npm run bench -- [options]
Measures the tiny and the full-size generated model on this machine; prints Markdown tables and
writes them as JSON to bench/results/<date>-<host>.json.
  --only tiny|full        one model only (default both)
  --size N                txt2img and VJP size in pixels, a multiple of 8 (default 512)
  --steps N               denoising steps (default: tiny 20, full 4)
  --repeats N             timed UNet forward/VJP runs after one warm-up (default: tiny 5, full 1)
  --models-dir DIR        where generated models are cached (default .cache/bench-models)
  --provider NAME         auto, cpu, cuda, dml, coreml (default cpu)
  --threads N             intra-op threads for the UNet forward and VJP runs (default: onnxruntime's choice)
  --memory-limit GIB      stop a measurement whose resident set passes this (default: available RAM − 1 GiB)
  --timeout-min N         stop a measurement after N minutes (default 60)
  --json-out FILE         where to write the JSON (default bench/results/<date>-<host>.json)
  --inversion             also run bench/inversion.ts's runInversionBench when it exists`;

export interface BenchOptions {
  presets: PresetName[];
  size: number;
  steps: Record<PresetName, number>;
  warmup: Record<PresetName, number>;
  repeats: Record<PresetName, number>;
  modelsDir: string;
  provider: string;
  /** Intra-op threads of the UNet forward/VJP runs; undefined lets onnxruntime choose. */
  threads?: number;
  /** Fixed by --memory-limit; otherwise each measurement gets the RAM available when it starts, less 1 GiB. */
  memoryLimitBytes?: number;
  timeoutMs: number;
  jsonOut?: string;
  inversion: boolean;
  help: boolean;
}

const GiB = 2 ** 30;

/** MemAvailable (free plus reclaimable cache) from /proc/meminfo, else os.freemem(). */
export function availableMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+)\s+kB$/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return os.freemem();
}

function positiveInt(value: string | undefined, flag: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw badArgument(`${flag} is ${value}; use a whole number ≥ ${min}.`);
  return n;
}

export function parseBenchArgs(args: string[], repoRoot: string): BenchOptions {
  const { values, positionals } = parseCliArgs(args, {
    only: { type: 'string' },
    size: { type: 'string' },
    steps: { type: 'string' },
    repeats: { type: 'string' },
    'models-dir': { type: 'string' },
    provider: { type: 'string' },
    threads: { type: 'string' },
    'memory-limit': { type: 'string' },
    'timeout-min': { type: 'string' },
    'json-out': { type: 'string' },
    inversion: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (positionals.length) throw badArgument(`Unexpected arguments: ${positionals.join(' ')} (see --help).`);
  if (values.only !== undefined && values.only !== 'tiny' && values.only !== 'full') {
    throw badArgument(`--only is "${values.only}"; use tiny or full.`);
  }
  const size = positiveInt(values.size, '--size', 8) ?? 512;
  if (size % 8 !== 0 || size > 2048) throw badArgument(`--size is ${size}; use a multiple of 8 from 8 to 2048.`);
  const steps = positiveInt(values.steps, '--steps');
  const repeats = positiveInt(values.repeats, '--repeats');
  let memoryLimitBytes: number | undefined;
  if (values['memory-limit'] !== undefined) {
    const g = Number(values['memory-limit']);
    if (!(g > 0)) throw badArgument(`--memory-limit is ${values['memory-limit']}; use a number of GiB > 0.`);
    memoryLimitBytes = g * GiB;
  }
  const timeoutMin = positiveInt(values['timeout-min'], '--timeout-min') ?? 60;
  return {
    presets: values.only ? [values.only as PresetName] : ['tiny', 'full'],
    size,
    steps: { tiny: steps ?? 20, full: steps ?? 4 },
    // A warm-up pipeline run costs the full model minutes; its first-run cost lands in one step of several.
    warmup: { tiny: 1, full: 0 },
    repeats: { tiny: repeats ?? 5, full: repeats ?? 1 },
    modelsDir: path.resolve(repoRoot, values['models-dir'] ?? '.cache/bench-models'),
    provider: values.provider ?? 'cpu',
    threads: positiveInt(values.threads, '--threads'),
    memoryLimitBytes,
    timeoutMs: timeoutMin * 60_000,
    jsonOut: values['json-out'],
    inversion: values.inversion ?? false,
    help: values.help ?? false,
  };
}
