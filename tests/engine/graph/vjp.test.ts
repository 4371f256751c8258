import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../main/engine/graph/GraphBuilder';
import { DataType } from '../../../main/engine/graph/onnx';
import { vjp } from '../../../main/engine/graph/vjp';
import { gradCheck } from './gradCheck';

const D = DataType.DOUBLE;

describe('vjp graph walk', () => {
  it('an op without a rule on the differentiated path is UNSUPPORTED_OP naming the op and node', () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', D, [3]);
    b.output(b.op('Sigmoid', [b.op('Hardmax', [x], {}, { name: '/block/weird' })]), D);
    expect(() => vjp(b.model(), { wrt: ['x'], of: [b.outputs[0].name] })).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_OP', message: expect.stringMatching(/Hardmax \(node '\/block\/weird'\)/) }),
    );
  });

  it('an op without a rule off the path is fine', async () => {
    const F = DataType.FLOAT; // onnxruntime has Hardmax in float32 only
    const b = new GraphBuilder(17);
    const x = b.input('x', F, [3]);
    const w = b.input('w', F, [3]);
    const h = b.op('Hardmax', [w]);
    b.output(b.op('Mul', [x, h]), F);
    const { derived } = await gradCheck(b.model(), { wrt: ['x'] });
    expect(derived.graph.node.filter((n) => n.name.startsWith('/grad')).length).toBeGreaterThan(0);
  });

  it('only nodes on a path from a wrt input to a chosen output get backward nodes', () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', D, [2, 3]);
    const y = b.input('y', D, [2, 3]);
    const onPath = b.op('Exp', [x], {}, { name: '/onpath/Exp' });
    const fromY = b.op('Tanh', [y], {}, { name: '/other_input/Tanh' });
    const side = b.op('Sigmoid', [x], {}, { name: '/side_branch/Sigmoid' });
    b.output(b.op('Mul', [onPath, fromY], {}, { name: '/out/Mul' }), D);
    b.output(b.op('Neg', [side], {}, { name: '/unused_output/Neg' }), D);
    const out = b.outputs[0].name;
    const derived = vjp(b.model(), { wrt: ['x'], of: [out] });
    const backward = derived.graph.node.filter((n) => n.name.startsWith('/grad')).map((n) => n.name);
    expect(backward.some((n) => n.startsWith('/grad/onpath/Exp'))).toBe(true);
    expect(backward.some((n) => n.startsWith('/grad/out/Mul'))).toBe(true);
    for (const off of ['other_input', 'side_branch', 'unused_output']) expect(backward.some((n) => n.includes(off))).toBe(false);
    // The side branch's forward nodes are pruned too; the outputs are the chosen one plus x_grad.
    expect(derived.graph.node.some((n) => n.name === '/side_branch/Sigmoid')).toBe(false);
    expect(derived.graph.output.map((o) => o.name)).toEqual([out, 'x_grad']);
    expect(derived.graph.input.map((i) => i.name)).toEqual(['x', 'y', `${out}_grad`]);
  });

  it('accumulates gradients of a value with several consumers (fan-out)', async () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', D, [2, 3]);
    const s = b.op('Sigmoid', [x]);
    // f = s·s + exp(s) + s: three consumers of s, two uses of s in one Mul.
    b.output(b.op('Add', [b.op('Add', [b.op('Mul', [s, s]), b.op('Exp', [s])]), s]), D);
    const { derived, grads } = await gradCheck(b.model());
    expect(derived.graph.node.filter((n) => n.name.startsWith('/grad') && n.opType === 'Add').length).toBeGreaterThanOrEqual(2);
    expect(grads.x.dims).toEqual([2, 3]);
  });

  it('two chosen outputs and two wrt inputs, one of which reaches no output (zero gradient)', async () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', D, [2]);
    const z = b.input('z', D, [2]);
    b.output(b.op('Exp', [x]), D);
    b.output(b.op('Mul', [x, x]), D);
    b.output(b.op('Neg', [z]), D);
    const { grads } = await gradCheck(b.model(), { wrt: ['x', 'z'], of: [b.outputs[0].name, b.outputs[1].name] });
    expect(Array.from(grads.z.data as Float64Array)).toEqual([0, 0]);
  });

  it('rejects unknown names, listing the valid ones', () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', D, [2]);
    b.output(b.op('Exp', [x], {}, { outputs: ['y'] }), D);
    const m = b.model();
    expect(() => vjp(m, { wrt: ['nope'], of: ['y'] })).toThrow(/'nope' is not an input of the model; valid inputs: x/);
    expect(() => vjp(m, { wrt: ['x'], of: ['q'] })).toThrow(/'q' is not an output of the model; valid outputs: y/);
  });

  it('refuses integer inputs (token ids, an int64 timestep), naming the dtype', () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', D, [2]);
    const ids = b.input('input_ids', DataType.INT64, [2]);
    const t = b.input('timestep', DataType.INT32, [1]);
    const mixed = b.op('Add', [b.op('Cast', [ids], { to: D }), b.op('Cast', [t], { to: D })]);
    b.output(b.op('Mul', [x, mixed], {}, { outputs: ['y'] }), D);
    const m = b.model();
    expect(() => vjp(m, { wrt: ['input_ids'], of: ['y'] })).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/'input_ids' is int64; only floating-point inputs have gradients.*inputs_embeds/) }),
    );
    expect(() => vjp(m, { wrt: ['x', 'timestep'], of: ['y'] })).toThrow(/'timestep' is int32; only floating-point inputs/);
    expect(vjp(m, { wrt: ['x'], of: ['y'] }).graph.output.map((o) => o.name)).toEqual(['y', 'x_grad']);
  });
});
