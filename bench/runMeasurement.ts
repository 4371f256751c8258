import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { BenchMeasurement, BenchTask, ChildOutcome } from './BenchTask';
import { RESULT_PREFIX } from './BenchTask';
import { currentRss } from './peakRss';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const MEASURE_SCRIPT = path.join(BENCH_DIR, 'measure.ts');
const POLL_MS = 200;
const GiB = 2 ** 30;

export interface ChildLimits {
  timeoutMs: number;
  /** The child is killed when its resident set passes this, before the kernel's OOM killer picks a victim. */
  memoryLimitBytes: number;
}

/** A failed outcome caused by memory: stopped by the watcher, OOM-killed, or onnxruntime's own OUT_OF_MEMORY. */
export function failedForMemory(outcome: ChildOutcome): boolean {
  return !outcome.ok && /resident set|out of memory|SIGKILL|bad_alloc|failed to allocate/i.test(outcome.reason);
}

/**
 * Runs one task in a fresh `node --import tsx` process and never throws: a crash, a timeout, an
 * out-of-memory kill or a missing result line all come back as `{ ok: false, reason }`.
 */
export function runMeasurement<M extends BenchMeasurement>(task: BenchTask, limits: ChildLimits): Promise<ChildOutcome<M>> {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MEASURE_SCRIPT, JSON.stringify(task)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let observedPeak = 0;
    let stoppedBecause: string | undefined;
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));

    const stop = (why: string) => {
      if (stoppedBecause) return;
      stoppedBecause = why;
      child.kill('SIGKILL');
    };
    const watch = setInterval(() => {
      const rss = child.pid ? currentRss(child.pid) : undefined;
      if (rss === undefined) return;
      observedPeak = Math.max(observedPeak, rss);
      if (rss > limits.memoryLimitBytes) {
        stop(`stopped at ${(rss / GiB).toFixed(1)} GiB resident set (limit ${(limits.memoryLimitBytes / GiB).toFixed(1)} GiB)`);
      }
    }, POLL_MS);
    const timer = setTimeout(() => stop(`stopped after the ${Math.round(limits.timeoutMs / 1000)} s time limit`), limits.timeoutMs);

    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      clearInterval(watch);
      clearTimeout(timer);
      const wallMs = performance.now() - start;
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (line && !stoppedBecause) {
        try {
          resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as ChildOutcome<M>);
          return;
        } catch {
          // Fall through: a truncated line is reported like a crash.
        }
      }
      const lastError = stderr
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .slice(-1)[0];
      const reason =
        stoppedBecause ??
        (spawnError
          ? `could not start the measurement (${spawnError.message})`
          : `the measurement process ended with ${signal ? `signal ${signal}${signal === 'SIGKILL' ? ' (likely out of memory)' : ''}` : `exit code ${code}`}` +
            (lastError ? `: ${lastError}` : ''));
      resolve({ ok: false, reason, peakRssBytes: observedPeak || undefined, wallMs });
    };
    child.on('error', (e) => finish(null, null, e));
    child.on('close', (code, signal) => finish(code, signal));
  });
}
