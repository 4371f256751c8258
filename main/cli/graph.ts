import fs from 'node:fs';
import path from 'node:path';
import { badArgument } from '../engine/errors';
import { addControlResiduals } from '../engine/graph/addControlResiduals';
import { inspectModel, type ValueSummary } from '../engine/graph/inspectModel';
import { loadModel, saveModel, type LoadedModel } from '../engine/graph/ModelIO';
import type { ModelProto } from '../engine/graph/onnx';
import { splitKv } from '../engine/graph/splitKv';
import { textEmbeds } from '../engine/graph/textEmbeds';
import { vjp } from '../engine/graph/vjp';
import { EXIT_BAD_INPUT, parseCliArgs, resolveUserPath, runCli } from './cliUtil';

const USAGE = `Usage: npm run graph -- COMMAND MODEL [options]
MODEL is an .onnx file or a folder holding model.onnx. Derived models are saved to --out
(a path ending in .onnx, or a folder that gets model.onnx; a name with another extension is
refused) and reference the source's weights.
  inspect MODEL                      inputs/outputs, opset, op histogram, parameters, weight files
  split-kv MODEL --out OUT           per-layer cross-attention key/value inputs (+ kv_layers.json)
  add-control-residuals MODEL --out OUT
                                     ControlNet residual inputs on a plain UNet
  text-embeds MODEL --out OUT        text encoder taking inputs_embeds, with the pre-norm state
  vjp MODEL --wrt NAME[,NAME] --of NAME[,NAME] --out OUT
                                     the vector-Jacobian product model (float inputs only)
Relative paths are relative to the folder you run the command in.`;

const COMMANDS = ['inspect', 'split-kv', 'add-control-residuals', 'text-embeds', 'vjp'];

function modelFile(arg: string | undefined): string {
  if (!arg) throw badArgument('No MODEL given (see --help).');
  const file = resolveUserPath(arg);
  return fs.existsSync(file) && fs.statSync(file).isDirectory() ? path.join(file, 'model.onnx') : file;
}

/**
 * Where --out puts the derived model: an .onnx path as it is, else a folder that gets model.onnx.
 * A new name with another extension (out.txt, g.json) would become a folder of that name, which
 * is never what was meant: refused.
 */
function outFile(out: string | undefined): string {
  if (!out) throw badArgument('--out OUT is required for this command.');
  const resolved = resolveUserPath(out);
  if (out.endsWith('.onnx')) return resolved;
  const ext = path.extname(resolved);
  const isFolder = fs.existsSync(resolved) && fs.statSync(resolved).isDirectory();
  if (ext && !isFolder) throw badArgument(`--out ${out}: give an .onnx file or a folder (it gets model.onnx), not a ${ext} name.`);
  if (fs.existsSync(resolved) && !isFolder) throw badArgument(`--out ${out} is a file; give an .onnx file or a folder (it gets model.onnx).`);
  return path.join(resolved, 'model.onnx');
}

function checkNotSource(file: string, out: string | undefined, source: LoadedModel): string {
  if (file === source.path) throw badArgument(`--out ${out} would overwrite the source model; choose another path.`);
  return file;
}

function describeValue(v: ValueSummary): string {
  return `  ${v.name}: ${v.dtype}[${(v.shape ?? ['?']).join(', ')}]`;
}

function save(model: ModelProto, file: string, source: LoadedModel): void {
  saveModel(model, file, { sourceDir: source.dir });
  process.stdout.write(`saved ${file}\n`);
}

function names(list: string | undefined, flag: string): string[] {
  const parts = (list ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw badArgument(`${flag} NAME[,NAME] is required for vjp.`);
  return parts;
}

async function main(): Promise<void> {
  const { values, positionals } = parseCliArgs(process.argv.slice(2), {
    out: { type: 'string' },
    wrt: { type: 'string' },
    of: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals.length === 0) {
    // Nothing asked for is a usage error (as npm run control and models treat it), not success.
    process.stderr.write(`${USAGE}\n`);
    process.exitCode = EXIT_BAD_INPUT;
    return;
  }
  const [command, modelArg, ...extra] = positionals;
  if (!COMMANDS.includes(command)) throw badArgument(`Unknown command '${command}'; valid: ${COMMANDS.join(', ')}.`);
  if (extra.length) throw badArgument(`Unexpected arguments: ${extra.join(' ')}.`);
  // --out is checked before the (possibly large) source model is read.
  const out = command === 'inspect' ? undefined : outFile(values.out);
  const source = loadModel(modelFile(modelArg));

  switch (command) {
    case 'inspect': {
      const s = inspectModel(source);
      const lines = [
        `${source.path}`,
        `opset ${s.opset}, ${s.nodeCount} nodes, ${s.parameters.toLocaleString('en-US')} parameters`,
        'inputs:',
        ...s.inputs.map(describeValue),
        'outputs:',
        ...s.outputs.map(describeValue),
        `external data: ${s.externalDataFiles.length ? s.externalDataFiles.join(', ') : 'none'}`,
        'ops:',
        ...s.ops.map(([op, n]) => `  ${op} ${n}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return;
    }
    case 'split-kv': {
      const file = checkNotSource(out!, values.out, source);
      const { model, layers } = splitKv(source.model, { dir: source.dir });
      save(model, file, source);
      const manifest = path.join(path.dirname(file), 'kv_layers.json');
      fs.writeFileSync(manifest, `${JSON.stringify(layers, null, 2)}\n`);
      process.stdout.write(`${layers.length} cross-attention layers; manifest ${manifest}\n`);
      return;
    }
    case 'add-control-residuals': {
      const file = checkNotSource(out!, values.out, source);
      const { model, residuals } = addControlResiduals(source.model, { dir: source.dir });
      save(model, file, source);
      process.stdout.write(`${residuals.length} residual inputs: ${residuals.map((r) => r.input).join(', ')}\n`);
      return;
    }
    case 'text-embeds': {
      const file = checkNotSource(out!, values.out, source);
      const { model, needsInputIds } = textEmbeds(source.model, { dir: source.dir });
      save(model, file, source);
      process.stdout.write(`inputs: ${model.graph.input.map((v) => v.name).join(', ')}${needsInputIds ? ' (input_ids for the pooled output)' : ''}\n`);
      return;
    }
    case 'vjp': {
      const file = checkNotSource(out!, values.out, source);
      const model = vjp(source.model, { wrt: names(values.wrt, '--wrt'), of: names(values.of, '--of') }, source.dir);
      save(model, file, source);
      process.stdout.write(`inputs: ${model.graph.input.map((v) => v.name).join(', ')}\noutputs: ${model.graph.output.map((v) => v.name).join(', ')}\n`);
      return;
    }
  }
}

void runCli('graph', main);
