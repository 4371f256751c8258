import fs from 'node:fs';

/**
 * This process's peak resident set in bytes: VmHWM (the kernel's high-water mark, which counts
 * onnxruntime's native allocations too), or getrusage's maxrss where /proc is absent.
 */
export function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Current resident set of another process in bytes (VmRSS), or undefined once it has gone. */
export function currentRss(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
