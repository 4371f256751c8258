import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/BenchReport';

const ROOT = process.cwd();
const dir = mkdtempSync(path.join(tmpdir(), 'pentimento-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bench(...args: string[]) {
  const r = spawnSync('npx', ['tsx', 'bench/index.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The cells of the Markdown table row that starts with `| first |`, under the `## heading` that matches. */
function tableRow(markdown: string, heading: RegExp, first: string): string[] {
  const section = markdown.split(/^## /m).find((s) => heading.test(s.split('\n')[0]));
  expect(section, `a section matching ${heading}`).toBeDefined();
  const line = section!.split('\n').find((l) => l.startsWith(`| ${first} |`));
  expect(line, `a row for ${first}`).toBeDefined();
  return line!.slice(2, -2).split(' | ');
}

const num = (cell: string) => {
  expect(cell).toMatch(/^\d+(\.\d+)?/);
  return Number.parseFloat(cell);
};

describe('npm run bench', () => {
  it('measures the tiny model: pipeline and VJP rows with numbers, and the same as JSON', { timeout: 600_000 }, () => {
    const json = path.join(dir, 'tiny.json');
    const r = bench('--only', 'tiny', '--size', '64', '--steps', '2', '--repeats', '2', '--json-out', json);
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# Pentimento benchmark, \d{4}-\d\d-\d\d/);
    expect(r.stdout).toMatch(/- Machine: .*\d+ logical CPUs.*GiB RAM/);
    expect(r.stdout).toMatch(/- Software: node v\d+.*onnxruntime-node \d+\.\d+/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    const preset = report.presets[0];

    // | Model | UNet params | Steps | Load | UNet ms/step | Wall | Inside ORT | Wall ÷ ORT | Goal | Peak RSS |
    const p = tableRow(r.stdout, /^txt2img 64×64/, 'tiny');
    expect(p).toHaveLength(10);
    expect(p[2]).toBe('2');
    expect(p[4]).toMatch(/^\d+(\.\d+)? \(batch 2\)$/);
    for (const i of [3, 4, 5, 6, 9]) expect(num(p[i])).toBeGreaterThan(0);
    // The wall time includes the time inside onnxruntime.
    expect(num(p[7])).toBeGreaterThanOrEqual(1);
    expect(p[8]).toBe(num(p[7]) <= 1.03 ? 'pass' : 'FAIL');
    expect(preset.pipeline?.ok).toBe(true);
    if (preset.pipeline?.ok) {
      const m = preset.pipeline.measurement;
      expect(p[7]).toBe((m.totalMs / m.insideOrtMs).toFixed(3));
      expect(m.components.unet.calls).toBe(2);
      expect(m.unetBatch).toBe(2);
      expect(m.insideOrtMs).toBeLessThanOrEqual(m.totalMs);
    }

    // | Model | Size | Build | Derived load | Forward | VJP | VJP ÷ forward (goal) | Forward CPU | VJP CPU | ratio (goal) | Peak RSS VJP | Peak RSS forward |
    const v = tableRow(r.stdout, /^UNet VJP/, 'tiny');
    expect(v).toHaveLength(12);
    expect(v[1]).toBe('64²');
    for (const i of [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) expect(num(v[i])).toBeGreaterThan(0);
    expect(v[6]).toMatch(num(v[6]) <= 2.5 ? / \(pass\)$/ : / \(FAIL\)$/);
    expect(v[9]).toMatch(num(v[9]) <= 2.5 ? / \(pass\)$/ : / \(FAIL\)$/);
    expect(num(v[9])).toBeCloseTo(num(v[8]) / num(v[7]), 1);
    // Forward with onnxruntime's memory pattern and two warm-ups, the VJP without it and one.
    expect(r.stdout).toMatch(/forward: 2 warm-up run\(s\), memory pattern on; VJP: 1 warm-up run\(s\), memory pattern off/);
    expect(preset.vjpBuild?.ok && preset.vjpBuild.measurement.derivedOutputs).toEqual(['out_sample', 'encoder_hidden_states_grad']);
    const run = preset.vjp.at(-1)?.vjp;
    expect(run?.ok && run.measurement.inputs.map((i) => i.name).sort()).toEqual(
      ['encoder_hidden_states', 'out_sample_grad', 'sample', 'timestep'].sort(),
    );
    expect(run?.ok && run.measurement.runsMs).toHaveLength(2);
    expect(run?.ok && run.measurement.cpuMs).toHaveLength(2);
    expect(run?.ok && run.measurement.memoryPattern).toBe(false);

    const total = tableRow(r.stdout, /^Where the pipeline wall time goes/, 'tiny');
    expect(total).toHaveLength(5);
  });

  it('turns a measurement that passes the memory limit into rows saying why, and still exits 0', { timeout: 120_000 }, () => {
    const json = path.join(dir, 'limited.json');
    const r = bench('--only', 'tiny', '--size', '64', '--memory-limit', '0.01', '--json-out', json);
    expect(r.code).toBe(0);
    const p = tableRow(r.stdout, /^txt2img/, 'tiny');
    expect(p[2]).toMatch(/^model folder failed: stopped at \d+\.\d GiB resident set \(limit 0\.0 GiB\)$/);
    const v = tableRow(r.stdout, /^UNet VJP/, 'tiny');
    expect(v[3]).toMatch(/^model folder failed: stopped at/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.presets[0].generate.ok).toBe(false);
  });

  it.each([
    [['--only', 'medium'], /--only is "medium"; use tiny or full/],
    [['--size', '100'], /--size is 100; use a multiple of 8/],
    [['--steps', '0'], /--steps is 0; use a whole number ≥ 1/],
    [['--threads', 'two'], /--threads is two; use a whole number ≥ 1/],
  ])('rejects %j with a one-line error and exit code 2', (args, message) => {
    const r = bench(...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
