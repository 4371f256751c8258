/**
 * npm run models -- tiny|full --out DIR [--seed N] [--variant optimum|torch] [--fp16] [--inpainting] [--control-residual-inputs] [--force]
 * npm run models -- controlnet tiny|full --out DIR [--seed N] [--variant optimum|torch] [--fp16]
 * npm run models -- annotators --out MODELS_DIR [--seed N]
 */
import fs from 'node:fs';
import path from 'node:path';
import { badArgument } from '../main/engine/errors';
import { parseCliArgs, runCli } from '../main/cli/cliUtil';
import { generateAnnotators } from './annotators/generate';
import { generateControlNet } from './controlnet/generateControlNet';
import { generateModelFolder, type ModelVariant } from './generate';
import { presets, type PresetName } from './presets';

const USAGE = `Usage: npm run models -- tiny|full --out DIR [--seed N] [--variant optimum|torch] [--fp16] [--inpainting] [--control-residual-inputs] [--force]
Writes a diffusers ONNX Stable Diffusion 1.5 folder with random weights (a test model: it draws
noise, not pictures). tiny: small widths, about 21 MiB, under a second. full: SD1.5 sizes, about 4 GB
of float32 weights (2 GB with --fp16) and several minutes.
  --variant optimum  optimum-exporter I/O (int64 timestep and input_ids, unet/model.onnx_data) [default]
  --variant torch    diffusers conversion-script I/O (float timestep, int32 input_ids, weights.pb)
  --seed N           weight seed, 0..4294967295 [0]
  --fp16             float16 weights, inputs and outputs
  --inpainting       9-channel UNet input (OnnxStableDiffusionInpaintPipeline)
  --control-residual-inputs
                     a UNet that also takes ControlNet residuals (12 down + mid inputs)
  --force            replace DIR if it already has files

       npm run models -- controlnet tiny|full --out DIR [--seed N] [--variant optimum|torch] [--fp16]
A random-weight SD1.5 ControlNet (DIR/model.onnx + weights) that fits the model of the same preset.

       npm run models -- annotators --out MODELS_DIR [--seed N]
Random-weight depth/seg/lineart/hed annotators in MODELS_DIR/annotators/ (the slots npm run control
and --control use), so Structure mode can be tried without real annotator models.`;

/** --out is a folder to create or fill: refuse it up front when it, or a folder above it, is a file. */
function checkOutFolder(out: string | undefined): string {
  if (!out) throw badArgument('The output folder is missing: pass --out DIR.');
  for (let p = path.resolve(out); ; p = path.dirname(p)) {
    if (fs.existsSync(p)) {
      if (!fs.statSync(p).isDirectory()) {
        throw badArgument(p === path.resolve(out) ? `--out ${out} is a file; give a folder (created if missing).` : `--out ${out}: ${p} is a file, not a folder.`);
      }
      return out;
    }
    if (path.dirname(p) === p) return out;
  }
}

function parseSeed(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw badArgument(`--seed ${text} is not valid: use an integer from 0 to 4294967295.`);
  return Number(text);
}

async function main(): Promise<void> {
  const { values, positionals } = parseCliArgs(process.argv.slice(2), {
    out: { type: 'string' },
    seed: { type: 'string' },
    variant: { type: 'string' },
    fp16: { type: 'boolean' },
    inpainting: { type: 'boolean' },
    'control-residual-inputs': { type: 'boolean' },
    force: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals[0] === 'controlnet' || positionals[0] === 'annotators') {
    const out = checkOutFolder(values.out);
    if (positionals[0] === 'annotators') {
      if (positionals.length !== 1) throw badArgument(`annotators takes no preset; got ${positionals.slice(1).join(' ')}.`);
      const dir = generateAnnotators(out, { seed: parseSeed(values.seed) });
      process.stdout.write(`${dir}/annotators: depth, seg, lineart, hed (random weights)\n`);
      return;
    }
    if (positionals.length !== 2 || !(positionals[1] in presets)) {
      throw badArgument(`controlnet needs a preset (${Object.keys(presets).join(' or ')}); see --help.`);
    }
    const cn = generateControlNet(out, {
      preset: positionals[1] as PresetName,
      seed: parseSeed(values.seed),
      variant: values.variant as ModelVariant | undefined,
      fp16: values.fp16,
    });
    process.stdout.write(`${cn.file}: ${positionals[1]} ControlNet, ${cn.parameterCount.toLocaleString('en-US')} parameters\n`);
    return;
  }
  if (positionals.length !== 1 || !(positionals[0] in presets)) {
    throw badArgument(
      `Name what to generate: a model preset (${Object.keys(presets).join(' or ')}), controlnet PRESET or annotators; got ${positionals.length ? positionals.join(' ') : 'nothing'}. See --help.`,
    );
  }
  const outDir = checkOutFolder(values.out);
  const info = await generateModelFolder({
    preset: positionals[0] as PresetName,
    outDir,
    seed: parseSeed(values.seed),
    variant: values.variant as ModelVariant | undefined,
    fp16: values.fp16,
    inpainting: values.inpainting,
    controlResidualInputs: values['control-residual-inputs'],
    overwrite: values.force,
    onProgress: ({ part, done, total }) => {
      if (part !== 'done') process.stderr.write(`[${done + 1}/${total}] ${part === 'files' ? 'tokenizer, scheduler, model_index.json' : part}\n`);
    },
  });
  const params = Object.values(info.parameters).reduce((a, b) => a + b, 0);
  const bytes = Object.values(info.files).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `${info.dir}: ${info.preset} (${info.variant}${info.fp16 ? ', fp16' : ''}${info.inpainting ? ', inpainting' : ''}, seed ${info.seed}), ` +
      `${params.toLocaleString('en-US')} parameters (unet ${info.parameters.unet.toLocaleString('en-US')}), ` +
      `${(bytes / 2 ** 20).toFixed(1)} MiB, ${info.seconds.toFixed(1)} s\n`,
  );
}

void runCli('models', main);
