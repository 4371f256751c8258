/**
 * Child-process entry of the benchmark: runs one BenchTask (JSON in argv[2]) and writes its
 * ChildOutcome as one line after RESULT_PREFIX on stdout. A fresh process per measurement makes
 * the reported peak RSS that measurement's alone.
 */
import { performance } from 'node:perf_hooks';
import type { BenchMeasurement, BenchTask, ChildOutcome } from './BenchTask';
import { RESULT_PREFIX } from './BenchTask';
import { ensureBenchModel } from './ensureBenchModel';
import { measurePipeline } from './measurePipeline';
import { measureUnetRun } from './measureUnetRun';
import { measureVjpBuild } from './measureVjpBuild';
import { peakRss } from './peakRss';

async function run(task: BenchTask): Promise<BenchMeasurement> {
  switch (task.kind) {
    case 'generate':
      return ensureBenchModel(task);
    case 'pipeline':
      return measurePipeline(task);
    case 'vjp-build':
      return measureVjpBuild(task);
    case 'unet-run':
      return measureUnetRun(task);
  }
}

async function main(): Promise<void> {
  const start = performance.now();
  let outcome: ChildOutcome;
  try {
    const measurement = await run(JSON.parse(process.argv[2] ?? '') as BenchTask);
    outcome = { ok: true, measurement, peakRssBytes: peakRss(), wallMs: performance.now() - start };
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
    outcome = { ok: false, reason, peakRssBytes: peakRss(), wallMs: performance.now() - start };
  }
  // Exit explicitly once the line is out: a native thread pool must not keep the child alive.
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(outcome)}\n`, () => process.exit(0));
}

void main();
