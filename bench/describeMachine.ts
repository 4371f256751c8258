import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

/** What a reader needs to compare two benchmark runs: the hardware, the software and how busy the machine was. */
export interface MachineDescription {
  host: string;
  cpu: string;
  /** Logical CPUs the kernel reports, and how many this process may use. */
  logicalCpus: number;
  availableCpus: number;
  ramGiB: number;
  os: string;
  node: string;
  onnxruntime: string;
  /** 1-, 5- and 15-minute load averages when the bench started: other work skews timings. */
  loadAverage: [number, number, number];
}

function cpuModel(): string {
  try {
    const line = fs
      .readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // Not Linux: os.cpus() below.
  }
  return os.cpus()[0]?.model.trim() || 'unknown CPU';
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    if (pretty) return `${pretty[1]} (${os.type()} ${os.release()}, ${os.arch()})`;
  } catch {
    // No os-release (macOS, Windows).
  }
  return `${os.type()} ${os.release()} (${os.arch()})`;
}

function onnxruntimeVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return `onnxruntime-node ${(require('onnxruntime-node/package.json') as { version: string }).version}`;
  } catch {
    return 'onnxruntime-node (version unknown)';
  }
}

export function describeMachine(): MachineDescription {
  const [a, b, c] = os.loadavg();
  return {
    host: os.hostname(),
    cpu: cpuModel(),
    logicalCpus: os.cpus().length,
    availableCpus: os.availableParallelism(),
    ramGiB: os.totalmem() / 2 ** 30,
    os: osName(),
    node: process.version,
    onnxruntime: onnxruntimeVersion(),
    loadAverage: [a, b, c],
  };
}
