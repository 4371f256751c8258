import { performance } from 'node:perf_hooks';
import { PentimentoError } from '../main/engine/errors';
import { loadModel, saveModel } from '../main/engine/graph/ModelIO';
import { vjp } from '../main/engine/graph/vjp';
import type { BenchTask, VjpBuildMeasurement } from './BenchTask';

/** The UNet's text-conditioning input: encoder_hidden_states by name, else its only rank-3 input. */
function contextInput(names: { name: string; rank: number | undefined }[]): string {
  const named = names.find((n) => n.name === 'encoder_hidden_states');
  const rank3 = names.filter((n) => n.rank === 3);
  const found = named ?? (rank3.length === 1 ? rank3[0] : undefined);
  if (!found) {
    throw new PentimentoError('BAD_MODEL', `no encoder_hidden_states input among ${names.map((n) => n.name).join(', ')}`);
  }
  return found.name;
}

/**
 * Derives the UNet's VJP with respect to the text conditioning, of its output — the model
 * Prompt Tuning Inversion and null-text inversion optimise through — and saves it beside links
 * to the source weights.
 */
export function measureVjpBuild(task: Extract<BenchTask, { kind: 'vjp-build' }>): VjpBuildMeasurement {
  const t0 = performance.now();
  const source = loadModel(task.unetFile);
  const t1 = performance.now();
  const g = source.model.graph;
  const wrt = contextInput(g.input.map((v) => ({ name: v.name, rank: v.type?.tensorType?.shape?.dim.length })));
  const derived = vjp(source.model, { wrt: [wrt], of: [g.output[0].name] }, source.dir);
  const t2 = performance.now();
  saveModel(derived, task.outFile, { sourceDir: source.dir });
  const t3 = performance.now();
  return {
    kind: 'vjp-build',
    readMs: t1 - t0,
    vjpMs: t2 - t1,
    saveMs: t3 - t2,
    sourceNodes: g.node.length,
    derivedNodes: derived.graph.node.length,
    derivedInputs: derived.graph.input.map((v) => v.name),
    derivedOutputs: derived.graph.output.map((v) => v.name),
  };
}
