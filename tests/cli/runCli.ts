import { spawn } from 'node:child_process';

export const ROOT = process.cwd();

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A CLI as `npm run NAME -- …` starts it: in the package root, with the caller's folder in
 * INIT_CWD (default: the root). Node is run directly because npx would reset INIT_CWD.
 */
export function runCliScript(script: string, args: string[], opts: { initCwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: { ...process.env, PENTIMENTO_PROVIDER: 'cpu', INIT_CWD: opts.initCwd ?? ROOT, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function lastJson(stdout: string): Record<string, any> {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}
