import { BENCH_GUIDANCE } from './measurePipeline';
import type { BenchReport, PresetReport, VjpAtSize } from './BenchReport';
import { VJP_OVER_FORWARD_GOAL, WALL_OVER_ORT_GOAL } from './BenchReport';
import type { ChildOutcome, UnetRunMeasurement } from './BenchTask';

const GiB = 2 ** 30;
const DASH = '—';

const sec = (ms: number) => (ms / 1000).toFixed(2);
const ms = (v: number) => (v < 100 ? v.toFixed(1) : Math.round(v).toString());
const gib = (bytes: number | undefined) => (bytes === undefined ? DASH : (bytes / GiB).toFixed(2));
const ratio = (v: number) => v.toFixed(3);
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;

function table(head: string[], rows: string[][]): string {
  return [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
}

function failure(outcome: ChildOutcome | undefined, what: string): string {
  if (!outcome) return `${what} not run`;
  return outcome.ok ? '' : `${what} failed: ${outcome.reason}`;
}

/** Why a preset's measurement is missing: its own failure, or the model folder's. */
function missing(p: PresetReport, outcome: ChildOutcome | undefined, what: string): string {
  return p.generate.ok ? failure(outcome, what) : failure(p.generate, 'model folder');
}

function params(p: PresetReport): string {
  return p.generate.ok ? `${(p.generate.measurement.unetParameters / 1e6).toFixed(p.generate.measurement.unetParameters < 1e7 ? 2 : 0)} M` : DASH;
}

function pipelineRow(p: PresetReport): string[] {
  const o = p.pipeline;
  if (!o?.ok) return [p.preset, params(p), missing(p, o, 'pipeline'), ...Array(7).fill(DASH)];
  const m = o.measurement;
  const r = m.totalMs / m.insideOrtMs;
  return [
    p.preset,
    params(p),
    String(m.steps),
    sec(m.loadMs),
    `${ms(m.unetStepMs)} (batch ${m.unetBatch})`,
    sec(m.totalMs),
    sec(m.insideOrtMs),
    ratio(r),
    r <= WALL_OVER_ORT_GOAL ? 'pass' : 'FAIL',
    gib(o.peakRssBytes),
  ];
}

/** The size actually reported, with why larger ones were abandoned. */
function sizeCell(p: PresetReport, last: VjpAtSize): string {
  const abandoned = p.vjp.slice(0, -1).map((t) => {
    const failed = !t.forward.ok ? t.forward : t.vjp && !t.vjp.ok ? t.vjp : undefined;
    return `${t.size}²: ${failed && !failed.ok ? failed.reason : 'failed'}`;
  });
  return `${last.size}²${abandoned.length ? ` (${abandoned.join('; ')})` : ''}`;
}

function vjpRow(p: PresetReport): string[] {
  const b = p.vjpBuild;
  const build = b?.ok ? sec(b.measurement.vjpMs + b.measurement.saveMs) : DASH;
  const last = p.vjp.at(-1);
  if (!b?.ok || !last) return [p.preset, DASH, build, missing(p, b, 'VJP build'), ...Array(9).fill(DASH)];
  const { forward, vjp } = last;
  if (!forward.ok || !vjp?.ok) {
    const why = !forward.ok ? failure(forward, 'forward run') : failure(vjp, 'VJP run');
    return [p.preset, sizeCell(p, last), build, vjp?.ok ? sec(vjp.measurement.sessionMs) : DASH, why, ...Array(7).fill(DASH), gib(forward.peakRssBytes)];
  }
  const f = forward.measurement;
  const v = vjp.measurement;
  const r = v.medianMs / f.medianMs;
  const cpu = f.medianCpuMs && v.medianCpuMs ? v.medianCpuMs / f.medianCpuMs : undefined;
  const goal = (x: number | undefined) => (x === undefined ? DASH : x <= VJP_OVER_FORWARD_GOAL ? 'pass' : 'FAIL');
  return [
    p.preset,
    sizeCell(p, last),
    build,
    sec(v.sessionMs),
    ms(f.medianMs),
    ms(v.medianMs),
    `${ratio(r)} (${goal(r)})`,
    f.medianCpuMs === undefined ? DASH : ms(f.medianCpuMs),
    v.medianCpuMs === undefined ? DASH : ms(v.medianCpuMs),
    cpu === undefined ? DASH : `${ratio(cpu)} (${goal(cpu)})`,
    gib(vjp.peakRssBytes),
    gib(forward.peakRssBytes),
  ];
}

/** How the UNet runs were made (warm-ups, memory pattern, threads), from what the children report. */
function vjpRunNote(report: BenchReport): string {
  const runs = report.presets.flatMap((p) => p.vjp.flatMap((a) => [a.forward, a.vjp])).filter((o) => o?.ok);
  const first = (pick: (m: UnetRunMeasurement) => boolean) =>
    runs.map((o) => (o as Extract<ChildOutcome<UnetRunMeasurement>, { ok: true }>).measurement).find(pick);
  const fwd = first((m) => m.memoryPattern !== false);
  const vjp = first((m) => m.memoryPattern === false);
  const describe = (m: UnetRunMeasurement | undefined, what: string) =>
    m ? `${what}: ${m.warmups ?? 1} warm-up run(s), memory pattern ${m.memoryPattern === false ? 'off' : 'on'}` : '';
  const threads = report.options.threads ? `${report.options.threads} intra-op thread(s)` : "onnxruntime's default intra-op threads";
  return [describe(fwd, 'forward'), describe(vjp, 'VJP'), threads].filter(Boolean).join('; ');
}

/** Where the pipeline's wall time went: each stage against the time its sessions spent inside onnxruntime. */
function overheadRows(p: PresetReport): string[][] {
  if (!p.pipeline?.ok) return [];
  const m = p.pipeline.measurement;
  const c = m.components;
  const inside = (name: string) => c[name]?.insideMs ?? 0;
  const stages: [string, number, number][] = [
    ['encodePrompt (text_encoder)', m.stages.encodePrompt, inside('text_encoder')],
    ['prepareLatents', m.stages.prepareLatents, inside('vae_encoder')],
    ['denoise (unet)', m.stages.denoise, inside('unet')],
    ['decode (vae_decoder)', m.stages.decode, inside('vae_decoder')],
  ];
  const rows = stages.map(([name, wall, ort]) => [p.preset, name, ms(wall), ms(ort), ms(wall - ort)]);
  const conversion = Object.values(c).reduce((s, t) => s + t.runMs - t.insideMs, 0);
  const accounted = stages.reduce((s, [, wall]) => s + wall, 0);
  rows.push([p.preset, 'of which tensor conversion in ModelSession.run', ms(conversion), DASH, ms(conversion)]);
  rows.push([p.preset, 'outside the stages', ms(m.totalMs - accounted), '0', ms(m.totalMs - accounted)]);
  rows.push([p.preset, 'total', ms(m.totalMs), ms(m.insideOrtMs), ms(m.totalMs - m.insideOrtMs)]);
  return rows;
}

export function describeHeader(report: BenchReport): string {
  const m = report.machine;
  return [
    `# Pentimento benchmark, ${report.date}`,
    '',
    `- Machine: ${m.host}: ${m.cpu}, ${m.logicalCpus} logical CPUs (${m.availableCpus} available), ${m.ramGiB.toFixed(1)} GiB RAM`,
    `- OS: ${m.os}`,
    `- Software: node ${m.node}, ${m.onnxruntime}, provider ${report.options.provider}`,
    `- Load average at start: ${m.loadAverage.map((v) => v.toFixed(2)).join(', ')} (1, 5, 15 min)`,
  ].join('\n');
}

export function formatTables(report: BenchReport): string {
  const o = report.options;
  const steps = Object.entries(o.steps).map(([k, v]) => `${k} ${v}`).join(', ');
  const warm = Object.entries(o.warmup).map(([k, v]) => `${k} ${v}`).join(', ');
  const reps = Object.entries(o.repeats).map(([k, v]) => `${k} ${v}`).join(', ');
  const providers = report.presets.flatMap((p) => (p.pipeline?.ok ? [`${p.preset}: ${p.pipeline.measurement.provider}`] : []));
  const parts = [
    describeHeader(report),
    providers.length ? `- Provider chosen: ${providers.join('; ')}` : '',
    '',
    `## txt2img ${o.size}×${o.size}, guidance ${BENCH_GUIDANCE} (batch-2 UNet call per step), steps: ${steps}; warm-up runs: ${warm}`,
    '',
    table(
      ['Model', 'UNet params', 'Steps', 'Load (s)', 'UNet ms/step', 'Wall (s)', 'Inside ORT (s)', 'Wall ÷ ORT', `Goal ≤ ${WALL_OVER_ORT_GOAL}`, 'Peak RSS (GiB)'],
      report.presets.map(pipelineRow),
    ),
    '',
    `## UNet VJP (wrt encoder_hidden_states, of out_sample) vs forward, batch 1; median of ${reps} timed runs`,
    '',
    `${vjpRunNote(report)}. Times inside onnxruntime (wall) and this process's CPU time (all threads); goal VJP ÷ forward ≤ ${VJP_OVER_FORWARD_GOAL}.`,
    '',
    table(
      ['Model', 'Size', 'Build: vjp + save (s)', 'Derived load (s)', 'Forward (ms)', 'VJP (ms)', 'VJP ÷ forward', 'Forward CPU (ms)', 'VJP CPU (ms)', 'VJP ÷ forward (CPU)', 'Peak RSS VJP (GiB)', 'Peak RSS forward (GiB)'],
      report.presets.map(vjpRow),
    ),
    '',
    '## Where the pipeline wall time goes (ms)',
    '',
    table(['Model', 'Stage', 'Wall', 'Inside ORT', 'Outside ORT'], report.presets.flatMap(overheadRows)),
  ];
  return `${parts.filter((s, i) => s !== '' || parts[i - 1] !== '').join('\n')}\n`;
}
