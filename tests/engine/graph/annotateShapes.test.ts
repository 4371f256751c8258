import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { annotateShapes } from '../../../main/engine/graph/annotateShapes';
import { GraphBuilder } from '../../../main/engine/graph/GraphBuilder';
import { DataType, dimOf, makeValueInfo, type ModelProto } from '../../../main/engine/graph/onnx';
import { inferShapes } from '../../../main/engine/graph/shapeInference';
import { vjp } from '../../../main/engine/graph/vjp';
import { testModelDir } from '../../fixtures/models';
import { loadModel, saveModel } from '../../../main/engine/graph/ModelIO';
import { unetFeeds } from './unetFeeds';

const F = DataType.FLOAT;

/** Every annotated value as an extra graph output, so a run reports its actual dims. */
function exposeAnnotated(model: ModelProto): ModelProto {
  const outputs = new Set(model.graph.output.map((v) => v.name));
  const extra = model.graph.valueInfo.filter((v) => !outputs.has(v.name));
  return { ...model, graph: { ...model.graph, output: [...model.graph.output, ...extra] } };
}

/**
 * Checks the annotation against what onnxruntime computed: numbers match exactly, and each
 * dim_param stands for one number throughout the run. Returns the names' values.
 */
function checkAgainstRun(model: ModelProto, results: ort.InferenceSession.OnnxValueMapType): Map<string, number> {
  const bound = new Map<string, number>();
  for (const v of model.graph.valueInfo) {
    const actual = results[v.name]?.dims;
    if (!actual) continue;
    const declared = v.type!.tensorType!.shape!.dim.map(dimOf);
    expect(actual.length, v.name).toBe(declared.length);
    declared.forEach((d, i) => {
      if (typeof d === 'number') expect(actual[i], `${v.name} dim ${i}`).toBe(d);
      else {
        const seen = bound.get(d);
        if (seen === undefined) bound.set(d, actual[i]);
        else expect(actual[i], `${v.name} dim ${i} (${d})`).toBe(seen);
      }
    });
  }
  return bound;
}

describe('annotateShapes', () => {
  it('names each class of equal dims once and keeps the graph’s own dim names', () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', F, ['batch', 3, 'h', 'w']);
    const flat = b.op('Reshape', [x, b.constInt64([0, 3, -1])]);
    const t = b.op('Transpose', [flat], { perm: [0, 2, 1] });
    b.output(b.op('Add', [t, t]), F);
    const model = b.model();
    const info = inferShapes(model);
    const annotated = annotateShapes(model, info);
    const dims = new Map(annotated.graph.valueInfo.map((v) => [v.name, v.type!.tensorType!.shape!.dim.map(dimOf)]));
    expect(dims.get(flat)).toEqual(['batch', 3, expect.stringMatching(/^d\d+$/)]);
    // The transpose's first axis is the same product h·w, so it carries the same name.
    expect(dims.get(t)).toEqual(['batch', dims.get(flat)![2], 3]);
    // Graph outputs keep their declared type; they are not annotated twice.
    expect(annotated.graph.valueInfo.some((v) => annotated.graph.output.some((o) => o.name === v.name))).toBe(false);
  });

  it('does not reuse a name the graph already declares', () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', F, ['d0', 'n']);
    const y = b.op('Concat', [x, x], { axis: 1 });
    b.output(b.op('Relu', [y]), F);
    const model = b.model();
    const annotated = annotateShapes(model, inferShapes(model));
    const concat = annotated.graph.valueInfo.find((v) => v.name === y)!.type!.tensorType!.shape!.dim.map(dimOf);
    expect(concat[0]).toBe('d0');
    expect(concat[1]).not.toBe('d0');
    expect(typeof concat[1]).toBe('string');
  });

  it('keeps value_info the model already has', () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', F, ['n']);
    const y = b.op('Relu', [x]);
    b.output(b.op('Neg', [y]), F);
    const model = b.model();
    model.graph.valueInfo.push(makeValueInfo(y, F, ['n']));
    const annotated = annotateShapes(model, inferShapes(model));
    expect(annotated.graph.valueInfo.filter((v) => v.name === y)).toHaveLength(1);
  });

  it('the tiny UNet VJP’s annotation agrees with onnxruntime at two batch and image sizes', async () => {
    const source = loadModel(path.join(await testModelDir('tiny'), 'unet', 'model.onnx'));
    const derived = vjp(source.model, { wrt: ['encoder_hidden_states'], of: ['out_sample'] }, source.dir);
    // Nearly every computed value is annotated, with a few dozen names in all (not one per value).
    const computed = derived.graph.node.flatMap((n) => n.output).filter((o) => o && !derived.graph.output.some((v) => v.name === o));
    expect(derived.graph.valueInfo.length).toBeGreaterThan(0.95 * computed.length);
    const names = new Set(derived.graph.valueInfo.flatMap((v) => v.type!.tensorType!.shape!.dim.map((d) => d.dimParam).filter(Boolean)));
    expect(names.size).toBeLessThan(80);

    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-annotate-')), 'model.onnx');
    saveModel(exposeAnnotated(derived), file, { sourceDir: source.dir });
    const session = await ort.InferenceSession.create(file);
    const sizes: number[] = [];
    for (const [batch, size] of [
      [1, 8],
      [2, 16],
    ]) {
      const feeds = unetFeeds(source.model, { batch, size });
      const cot = new ort.Tensor('float32', new Float32Array(batch * 4 * size * size).fill(0.1), [batch, 4, size, size]);
      const results = await session.run({ ...feeds, out_sample_grad: cot });
      const bound = checkAgainstRun(derived, results);
      expect(bound.get('batch_size')).toBe(batch);
      sizes.push(bound.size);
    }
    expect(sizes[0]).toBeGreaterThan(5);
  });
});
