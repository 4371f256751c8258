import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { ControlNet, resolveControlNetFile } from '../engine/control/ControlNet';
import type { ConditionImage } from '../engine/control/ConditionImage';
import type { ConditionType } from '../engine/control/ConditionType';
import { CONTROL_SPEC_FORMAT, parseControlSpec, type ControlSpec } from '../engine/control/controlnet/parseControlSpec';
import { ASPECT_TOLERANCE, aspectDifference } from '../engine/control/consistencyScore';
import { extractCondition, rawCondition } from '../engine/control/extractCondition';
import { annotatorFile, isAnnotatorType } from '../engine/control/annotatorSlots';
import { badArgument, PentimentoError } from '../engine/errors';
import { fitToModel } from '../engine/image/fitToModel';
import { loadImage } from '../engine/image/loadImage';
import { loadMask } from '../engine/image/loadMask';
import { withOutputSize, type GenerationParameters } from '../engine/image/GenerationParameters';
import type { LoadedImage } from '../engine/image/loadImage';
import { encodePng } from '../engine/image/encodePng';
import { savePng } from '../engine/image/savePng';
import { DerivedModelCache } from '../engine/graph/DerivedModelCache';
import { InversionCache } from '../engine/inversion/InversionCache';
import type { InversionProgress } from '../engine/inversion/InversionProgress';
import { checkEta, checkInversionSettings, INVERSION_METHODS, type InversionMethod } from '../engine/inversion/InversionSettings';
import { invertAndEdit, reeditInversion, type InvertEditResult } from '../engine/inversion/invertAndEdit';
import { controlledUnet } from '../engine/model/controlledUnet';
import { defaultCacheRoot, ensureDefaultControlNet } from '../engine/model/defaultModel';
import { resolveModelDir } from '../engine/model/resolveModelDir';
import { StableDiffusionModel } from '../engine/model/StableDiffusionModel';
import { bestOfSeeds, MAX_BEST_OF, type SeedCandidate } from '../engine/pipelines/bestOfSeeds';
import { checkCommon, checkSize, checkStrength, MAX_GUIDANCE, MAX_STEPS } from '../engine/pipelines/checkInputs';
import { DEFAULT_MASK_BLUR } from '../engine/pipelines/compositeMasked';
import { DEFAULT_MAX_SIDE } from '../engine/pipelines/fitPhoto';
import { imageToImage } from '../engine/pipelines/imageToImage';
import { inpaint } from '../engine/pipelines/inpaint';
import type { CommonRequest, PipelineProgress, PipelineResult, PipelineTimings } from '../engine/pipelines/PipelineRequest';
import type { ControlUnit } from '../engine/pipelines/prepareControl';
import { DEFAULT_TXT2IMG_SIZE, textToImage } from '../engine/pipelines/textToImage';
import type { SamplerName } from '../engine/schedulers';
import { readNpy, writeNpy } from '../engine/util/npy';
import { defaultUserDataDir } from '../web/defaultUserDataDir';
import { annotatorsFor } from './annotatorsFor';
import { checkOutputPng, expandHome, parseCliArgs, resolveUserPath, runCli } from './cliUtil';

const USAGE = `Usage: npm run edit -- --image PATH --prompt TEXT [options]
       npm run edit -- --txt2img --prompt TEXT [--width W --height H] [options]

Edits a photo with the Stable Diffusion engine (in this process) and writes a PNG that carries
its generation parameters.

  --image PATH        photo to edit (PNG, JPEG, WebP, TIFF, AVIF, GIF); any size: it is fitted to
                      multiples of 8 (longer side ≤ ${DEFAULT_MAX_SIDE}) and the result restored to its size.
                      A photo with transparency keeps its alpha (RGBA PNG out); grey photos come
                      out as RGB
  --prompt TEXT       what the result should show
  --mask PATH         inpaint: white = regenerate, black = keep (any size; resized to the photo).
                      The result is pasted in through the mask feathered by a Gaussian of
                      σ = ${DEFAULT_MASK_BLUR} px: pixels more than ${Math.ceil(3 * DEFAULT_MASK_BLUR)} px from any non-black mask pixel
                      are the photo's, bit for bit
  --strength F        fraction of the schedule re-run, in (0, 1]; default 0.75 (1 with --mask)
  --steps N           inference steps, 1–${MAX_STEPS}; default 20 (img2img runs ⌊N·strength⌋ of them,
                      reported as stepsRun in --json)
  --seed N            noise seed; random when absent (reported in --json and the PNG)
  --guidance F        classifier-free guidance scale, 0–${MAX_GUIDANCE}; default 7.5 (≤ 1 turns it off)
  --negative TEXT     negative prompt
  --scheduler NAME    ddim | euler | euler-a | dpmpp-2m; default: from the model's scheduler_config.json
  --txt2img           generate from text alone (no --image), at --width × --height (default 512;
                      with --control, the first condition image's size: it runs fitted to multiples
                      of 8 and the result is restored to that size; with one of them given, the
                      other follows the image's aspect ratio)
  --noise FILE.npy    initial noise, float array of shape [1, 4, H/8, W/8] at the model size
  --dump DIR          write text_embeddings.npy, initial_latents.npy and final_latents.npy there
  --model DIR         diffusers ONNX model folder; default: the embedded random-weight test model
  --provider NAME     auto | cpu | cuda | dml | coreml (default auto, or $PENTIMENTO_PROVIDER)
  --out PATH          output PNG (a .png name; never the input photo; an existing file is replaced);
                      default <image folder>/<image name>-edited.png (--txt2img: ./txt2img-<seed>.png),
                      or -edited-2.png, -3, … when that exists (a default never replaces a file)
  --json              print one JSON object (output, width, height, seed, steps, stepsRun, provider,
                      providerFallback (why auto skipped a GPU provider), model, timings, metrics)
                      as the last line of stdout

Relative paths are relative to the folder you run the command in. Prompts over 75 CLIP tokens
are cut there (a warning says so). The PNG's parameters give its own size; the size the model
ran at, when different, is extra.modelWidth × extra.modelHeight.

Structure guidance (ControlNet; see README.md, Command line), with --txt2img, --image or
--image and --mask:
  --control ${CONTROL_SPEC_FORMAT}
                      a ControlNet (.onnx file or folder with model.onnx; MODEL test is the embedded
                      random-weight test ControlNet, which fits the test model) guided by the TYPE
                      condition (canny, depth, segmentation, lineart, softedge) extracted from the
                      image at PATH — or PATH is the condition map itself with raw; scale (default 1),
                      start/end (fractions of the steps it acts in; default 0 and 1). Repeatable:
                      the ControlNets' residuals add up. The result's consistency with the first
                      condition (ControlNet++'s metric) is printed and reported under metrics
  --best-of N         generate seeds seed … seed+N−1 and keep the most consistent (needs --control);
                      --json timings are the sums over all N, each seed's under timings.perSeed
  --annotators DIR    models folder whose annotators/ holds depth.onnx, seg.onnx, lineart.onnx,
                      hed.onnx (default: <user data>/models, as npm run control; without --model, a
                      missing one is the random-weight test annotator, with a notice)

Editing by inversion (the photo is inverted, then re-generated towards --prompt; see README.md,
Command line):
  --method NAME       pti (Prompt Tuning Inversion) | nti (null-text inversion) | ddim (plain DDIM
                      inversion); with --image. --steps then defaults to 50, --guidance to 7.5
  --source-prompt T   describes the photo; conditions the inversion (default: the empty prompt)
  --eta F             edit strength in [0, 1]: 0 reconstructs the photo; default 0.7 (pti), 1 (nti, ddim)
  --mask PATH         with --method: edit only where white; elsewhere the photo is kept (pasted back
                      through the feathered mask, as inpainting does)
  --inner-steps N     optimiser iterations per timestep (pti, nti); default 10
  --lr F              pti, nti: Adam step size at the first timestep (decays by 1% per step); default 0.01
  --init WHICH        pti: start c_t from the target (default) or source prompt's embedding
  --inversion ID      re-edit a cached inversion (the inversionId of an earlier --json or PNG) with
                      --prompt, --eta and --mask: only the edit runs. --image is then optional (the
                      photo was kept with the inversion); --out defaults to ./inversion-<ID>.png
  Inversions are cached per (photo, model, settings) under $PENTIMENTO_CACHE_DIR (or the user
  cache folder)/inversions: another --eta or --mask re-runs only the edit, and so does another
  --prompt except for pti with --init target (the default), whose tuning starts from the target
  prompt (use --inversion ID to edit that inversion towards another prompt).`;

const SCHEDULERS: readonly SamplerName[] = ['ddim', 'euler', 'euler-a', 'dpmpp-2m'];

function number(name: string, text: string | undefined, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw badArgument(`--${name} is "${text}"; give ${integer ? 'a whole number' : 'a number'}.`);
  }
  return v;
}

/** The engine's names of values the CLI takes as flags. */
const FLAG_OF: Record<string, string> = {
  steps: '--steps',
  guidance: '--guidance',
  seed: '--seed',
  strength: '--strength',
  width: '--width',
  height: '--height',
  eta: '--eta',
  innerSteps: '--inner-steps',
  lr: '--lr',
};

/**
 * Runs an engine check and names the value in its error as the flag the user typed
 * ("--strength is 1.5; …", as the CLI's own checks say), not the engine's field name.
 */
function asFlags<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    // The engine's checks name the value they refused in details.field, and start their message with it.
    const field = e instanceof PentimentoError && e.code === 'BAD_ARGUMENT' ? e.details?.field : undefined;
    if (typeof field !== 'string' || !(field in FLAG_OF) || !(e as PentimentoError).message.startsWith(`${field} `)) throw e;
    throw badArgument(`${FLAG_OF[field]}${(e as PentimentoError).message.slice(field.length)}`, (e as PentimentoError).details);
  }
}

/**
 * Where the result goes. `--out` is the user's choice (an existing file is replaced). Without it,
 * a default name: <image folder>/<name>-edited.png (txt2img: ./txt2img-<seed>.png; a re-edit
 * without --image: ./inversion-<id>.png), or -2, -3, … when taken — claimed only when the result
 * is saved, atomically, so neither an earlier result nor a run in parallel is overwritten.
 */
interface Output {
  /** The chosen path, or the first free default name (what is checked up front). */
  path: string;
  /** Default names only: the folder and stem to claim a free name from at save time. */
  claim?: { dir: string; stem: string };
}

function candidate(dir: string, stem: string, n: number): string {
  return path.join(dir, n === 1 ? `${stem}.png` : `${stem}-${n}.png`);
}

function defaultOut(dir: string, stem: string): Output {
  for (let n = 1; ; n++) {
    const file = candidate(dir, stem, n);
    if (!fs.existsSync(file)) return { path: file, claim: { dir, stem } };
  }
}

function outputFor(out: string | undefined, image: string | undefined, fallbackStem: string): Output {
  if (out !== undefined) return { path: out };
  if (image === undefined) return defaultOut(resolveUserPath('.'), fallbackStem);
  const parsed = path.parse(resolveUserPath(image));
  return defaultOut(parsed.dir, `${parsed.name}-edited`);
}

/** `--control test,…` names the embedded model's random-weight ControlNet (generated on first use). */
export const TEST_CONTROLNET = 'test';

/** A --control spec's ControlNet: the embedded test one for `test`, else a path as the user typed it. */
function controlNetPath(model: string): string {
  if (model === TEST_CONTROLNET) return ensureDefaultControlNet(defaultCacheRoot());
  return resolveUserPath(expandHome(model));
}

/** Flags whose values are paths: relative ones mean the user's folder (see resolveUserPath). */
const PATH_FLAGS = ['image', 'mask', 'model', 'noise', 'dump', 'out', 'annotators'] as const;

/** An all-black mask regenerates nothing: say so rather than silently return the photo. */
function warnIfEmptyMask(mask: Float32Array): void {
  // Below half an 8-bit level everywhere: every pixel reads as black.
  if (mask.every((v) => v < 0.5 / 255)) {
    process.stderr.write('edit: warning: the mask is empty: nothing is regenerated; the photo is returned unchanged.\n');
  }
}

/**
 * A condition map is resized to the generation size; one of another shape is stretched, which
 * distorts the structure it gives (and `control score` would refuse to score against it): say so.
 */
function warnIfStretched(file: string, image: { width: number; height: number }, size: { width: number; height: number }): void {
  const difference = aspectDifference(image, size);
  if (difference <= ASPECT_TOLERANCE) return;
  process.stderr.write(
    `edit: warning: the condition image ${file} is ${image.width}×${image.height} but the result ${size.width}×${size.height}: it is stretched to fit (aspect ratios differ by ${Math.round(difference * 100)}%).\n`,
  );
}

/**
 * Results of a random-weight test model are noise: say so. Without --model the embedded one was
 * picked for the user, so point at --model; with it, name the folder the user chose.
 */
function noteTestModel(model: StableDiffusionModel, modelFlag: string | undefined): void {
  if (!model.folder.isTestModel) return;
  process.stderr.write(
    modelFlag === undefined
      ? 'edit: using the embedded random-weight test model; results are noise, not images. Pass --model DIR for a real one.\n'
      : `edit: ${modelFlag} is a random-weight test model; results are noise, not images.\n`,
  );
}

/** The text encoder sees 75 tokens of a prompt; say so when one is longer (as npm run tokenize does). */
function warnIfTruncated(model: StableDiffusionModel, prompts: [flag: string, text: string | undefined][]): void {
  const { tokenizer } = model.components;
  for (const [flag, text] of prompts) {
    if (!text) continue;
    const { tokenCount, truncated } = tokenizer.encode(text);
    if (truncated) {
      process.stderr.write(`edit: warning: ${flag} has ${tokenCount} tokens; only the first ${tokenizer.maxContentTokens} reach the text encoder.\n`);
    }
  }
}

/**
 * Writes the result PNG: its parameters give the file's own size, and a photo that had an
 * alpha channel gets it back (the model saw it flattened onto white).
 */
async function saveResult(
  out: Output,
  result: { rgb: Uint8Array; width: number; height: number; parameters: GenerationParameters },
  image: LoadedImage | undefined,
): Promise<string> {
  const alpha = image?.alpha && image.width === result.width && image.height === result.height ? image.alpha : undefined;
  const parameters = withOutputSize(result.parameters, result.width, result.height);
  if (!out.claim) {
    await savePng(out.path, result.rgb, result.width, result.height, parameters, alpha ? { alpha } : {});
    return out.path;
  }
  // Written whole under a hidden name, then linked to the first free default name: a link fails
  // if the name exists, so two runs never claim the same one, and no partial file is ever visible.
  const png = await encodePng(result.rgb, result.width, result.height, parameters, alpha ? { alpha } : {});
  const { dir, stem } = out.claim;
  const tmp = path.join(dir, `.${stem}.${process.pid}.tmp`);
  await fs.promises.writeFile(tmp, png);
  try {
    for (let n = 1; ; n++) {
      const file = candidate(dir, stem, n);
      try {
        await fs.promises.link(tmp, file);
        return file;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') continue;
        // A file system without hard links: an exclusive copy (still never replaces a file).
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EXDEV') {
          try {
            await fs.promises.copyFile(tmp, file, fs.constants.COPYFILE_EXCL);
            return file;
          } catch (copyError) {
            if ((copyError as NodeJS.ErrnoException).code === 'EEXIST') continue;
            throw copyError;
          }
        }
        throw e;
      }
    }
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}

/** A progress bar on a terminal; nothing when stderr is a pipe or file (logs stay clean). */
function progressBar(): { update(p: PipelineProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'denoising [{bar}] {value}/{total} steps', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      if (!started) {
        bar.start(p.totalSteps, 0);
        started = true;
      }
      bar.update(p.step);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseCliArgs(process.argv.slice(2), {
    image: { type: 'string' },
    prompt: { type: 'string' },
    model: { type: 'string' },
    mask: { type: 'string' },
    strength: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    guidance: { type: 'string' },
    negative: { type: 'string' },
    scheduler: { type: 'string' },
    txt2img: { type: 'boolean' },
    width: { type: 'string' },
    height: { type: 'string' },
    noise: { type: 'string' },
    dump: { type: 'string' },
    provider: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    method: { type: 'string' },
    'source-prompt': { type: 'string' },
    eta: { type: 'string' },
    'inner-steps': { type: 'string' },
    lr: { type: 'string' },
    init: { type: 'string' },
    inversion: { type: 'string' },
    control: { type: 'string', multiple: true },
    'best-of': { type: 'string' },
    annotators: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  // 1. Every flag is checked before anything is loaded or written.
  if (positionals.length > 0) throw badArgument(`Unexpected argument "${positionals[0]}"; see --help.`);
  if (values.prompt === undefined) throw badArgument('--prompt is required; see --help.');
  for (const flag of PATH_FLAGS) {
    const v = values[flag];
    if (v !== undefined) values[flag] = resolveUserPath(v);
  }
  // `name`: what the result's parameters record for the embedded test ControlNet (its keyword, not its cache path).
  const controlSpecs: (ControlSpec & { name?: string })[] = (values.control ?? []).map(parseControlSpec).map((spec) => ({
    ...spec,
    model: controlNetPath(spec.model),
    image: resolveUserPath(expandHome(spec.image)),
    ...(spec.model === TEST_CONTROLNET ? { name: TEST_CONTROLNET } : {}),
  }));
  const bestOf = number('best-of', values['best-of'], true);
  if (bestOf !== undefined && (bestOf < 1 || bestOf > MAX_BEST_OF)) throw badArgument(`--best-of is ${bestOf}; use a whole number from 1 to ${MAX_BEST_OF}.`);
  if (bestOf !== undefined && controlSpecs.length === 0) throw badArgument('--best-of ranks results by their consistency with a condition; add --control.');
  if (values.method !== undefined || values.inversion !== undefined) {
    if (controlSpecs.length || bestOf !== undefined || values.annotators !== undefined) {
      throw badArgument(`--control, --best-of and --annotators do not apply to ${values.inversion !== undefined ? '--inversion' : '--method'}.`);
    }
    const { control: _c, 'best-of': _b, annotators: _a, ...inversion } = values;
    return editByInversion(inversion);
  }
  if (values.annotators !== undefined && controlSpecs.length === 0) throw badArgument('--annotators applies to --control.');
  for (const spec of controlSpecs) {
    resolveControlNetFile(spec.model);
    if (!fs.existsSync(spec.image)) throw badArgument(`--control ${spec.name ?? spec.model}: the image ${spec.image} does not exist.`);
  }
  for (const flag of ['source-prompt', 'eta', 'inner-steps', 'lr', 'init'] as const) {
    if (values[flag] !== undefined) throw badArgument(`--${flag} applies to editing by inversion; add --method pti|nti|ddim.`);
  }
  const txt2img = values.txt2img === true;
  if (txt2img && (values.image !== undefined || values.mask !== undefined)) {
    throw badArgument('--txt2img generates from text alone; drop --image and --mask.');
  }
  if (!txt2img && values.image === undefined) throw badArgument('--image is required (or --txt2img); see --help.');
  if (!txt2img && (values.width !== undefined || values.height !== undefined)) {
    throw badArgument('--width and --height apply to --txt2img; an edited photo keeps its own size.');
  }
  if (values.scheduler !== undefined && !SCHEDULERS.includes(values.scheduler as SamplerName)) {
    throw badArgument(`--scheduler is "${values.scheduler}"; choose one of ${SCHEDULERS.join(', ')}.`);
  }
  const strength = number('strength', values.strength);
  if (strength !== undefined) {
    if (txt2img) throw badArgument('--strength applies to photo edits, not --txt2img.');
    asFlags(() => checkStrength(strength));
  }
  const common: CommonRequest = {
    prompt: values.prompt,
    negativePrompt: values.negative,
    steps: number('steps', values.steps, true),
    guidance: number('guidance', values.guidance),
    seed: number('seed', values.seed, true),
    scheduler: values.scheduler as SamplerName | undefined,
  };
  // The sampler default needs the model; any valid name checks the rest now.
  const checked = asFlags(() => checkCommon(common, 'ddim'));
  common.seed = checked.seed;
  let width = number('width', values.width, true) ?? DEFAULT_TXT2IMG_SIZE;
  let height = number('height', values.height, true) ?? DEFAULT_TXT2IMG_SIZE;
  if (txt2img) asFlags(() => checkSize(width, height));
  const output = outputFor(values.out, values.image, `txt2img-${checked.seed}`);
  checkOutputPng(output.path, '--out', [values.image, values.mask, ...controlSpecs.map((c) => c.image)]);
  // Structure from a photo without --width/--height: the photo's size fitted to the model (as the
  // app does), so the result, the photo and conditions extracted from it share one shape.
  // The result is then restored to the photo's size, as photo edits are.
  let outputSize: { width: number; height: number } | undefined;
  if (txt2img && controlSpecs.length > 0 && (values.width === undefined || values.height === undefined)) {
    const first = await loadImage(controlSpecs[0].image, { name: controlSpecs[0].image });
    if (values.width === undefined && values.height === undefined) {
      ({ width, height } = fitToModel(first.width, first.height, { multiple: 8, maxSide: DEFAULT_MAX_SIDE }));
      outputSize = { width: first.width, height: first.height };
    } else {
      // One side given: the other follows the photo's aspect ratio (to a multiple of 8), not 512.
      const multipleOf8 = (v: number) => Math.max(8, Math.round(v / 8) * 8);
      if (values.width === undefined) width = multipleOf8((height * first.width) / first.height);
      else height = multipleOf8((width * first.height) / first.width);
      asFlags(() => checkSize(width, height));
    }
  }

  // 2. Inputs: the photo, the mask, the noise.
  const image = values.image !== undefined ? await loadImage(values.image, { name: values.image }) : undefined;
  const mask = values.mask !== undefined && image ? await loadMask(values.mask, image.width, image.height, { name: values.mask }) : undefined;
  if (mask) warnIfEmptyMask(mask);
  const modelSize = image ? fitToModel(image.width, image.height, { multiple: 8, maxSide: DEFAULT_MAX_SIDE }) : { width, height };
  if (values.noise !== undefined) {
    const npy = await readNpy(values.noise);
    const want = [1, 4, modelSize.height / 8, modelSize.width / 8];
    if (npy.shape.length !== 4 || npy.shape.some((d, i) => d !== want[i])) {
      throw badArgument(
        `${values.noise} has shape [${npy.shape.join(', ')}] but this ${modelSize.width}×${modelSize.height} run needs noise of shape [${want.join(', ')}].`,
      );
    }
    common.noise = Float32Array.from(npy.data as ArrayLike<number | bigint>, Number);
  }
  if (values.dump !== undefined && fs.existsSync(values.dump) && !fs.statSync(values.dump).isDirectory()) {
    throw badArgument(`--dump ${values.dump} is a file; give a folder.`);
  }
  // The conditions: extracted from each photo at the generation size, or taken as they are with
  // raw (the pipeline resizes a raw map to the generation size).
  // With the embedded test model, as in the app, a missing annotator is the random-weight test
  // one (said on stderr); with --annotators or --model it must be there.
  const noted = new Set<ConditionType>();
  const annotatorsDir = (type: ConditionType): string =>
    values.annotators ?? annotatorsFor(type, path.join(defaultUserDataDir(), 'models'), { testFallback: values.model === undefined, cli: 'edit', noted });
  // Scoring re-extracts the first condition from the result, so its annotator must be there even for a raw map.
  const scored = controlSpecs[0];
  if (scored && isAnnotatorType(scored.type) && !fs.existsSync(annotatorFile(annotatorsDir(scored.type), scored.type))) {
    throw new PentimentoError(
      'MODEL_MISSING',
      `Scoring the ${scored.type} condition needs its annotator at ${annotatorFile(annotatorsDir(scored.type), scored.type)}, which is missing; put it there or pass --annotators DIR (see npm run control -- --help).`,
    );
  }
  const conditions: ConditionImage[] = [];
  for (const spec of controlSpecs) {
    const photo = await loadImage(spec.image, { name: spec.image });
    // Compared with the result's shape: runs fitted to multiples of 8 are restored to it.
    warnIfStretched(spec.image, photo, image ?? outputSize ?? modelSize);
    // Extracted from the photo resized to the generation size (as the app does): extracting at
    // the photo's size and resizing the map would blur one-pixel canny edges to faint grey.
    conditions.push(
      spec.raw ? rawCondition(spec.type, photo) : await extractCondition(spec.type, photo, { modelsDir: annotatorsDir(spec.type), ...modelSize }),
    );
  }

  // 3. The model.
  const { dir } = await resolveModelDir(values.model);
  const model = await StableDiffusionModel.load(dir, { provider: values.provider });
  try {
    noteTestModel(model, values.model);
    warnIfTruncated(model, [
      ['--prompt', common.prompt],
      ['--negative', common.negativePrompt],
    ]);

    // 4. ControlNets: the UNet made ControlNet-ready (built once per model, then cached).
    const controlNets: ControlNet[] = [];
    const cacheRoot = defaultCacheRoot();
    if (controlSpecs.length) {
      const unet = await controlledUnet(model, cacheRoot, {
        onBuild: () => process.stderr.write('edit: making the UNet ControlNet-ready (once per model)…\n'),
      });
      for (const spec of controlSpecs) controlNets.push(await ControlNet.open(model.runtime, spec.model));
      const units: ControlUnit[] = controlSpecs.map((spec, i) => ({
        controlnet: controlNets[i],
        name: spec.name,
        type: spec.type,
        condition: conditions[i],
        scale: spec.scale,
        start: spec.start,
        end: spec.end,
        // The file name only: no folders of this machine in a shared PNG, and the same bytes elsewhere.
        source: { image: path.basename(spec.image), raw: spec.raw },
      }));
      common.control = { unet, units, extract: { modelsDir: annotatorsDir(controlSpecs[0].type) } };
    }

    // 5. Run (best of N: seeds seed … seed+N−1, the most consistent kept, with its dumps).
    const dumpsBySeed = new Map<number, { name: string; data: Float32Array; dims: number[] }[]>();
    const timingsBySeed: { seed: number; timings: PipelineTimings }[] = [];
    const bar = progressBar();
    const generate = async (seed: number): Promise<PipelineResult> => {
      const dumps: { name: string; data: Float32Array; dims: number[] }[] = [];
      dumpsBySeed.set(seed, dumps);
      const request: CommonRequest = { ...common, seed, onProgress: (p) => bar.update(p) };
      if (values.dump !== undefined) request.dump = (name, data, dims) => dumps.push({ name, data: data.slice(), dims });
      const run = txt2img
        ? await textToImage(model, { ...request, width, height, ...(outputSize ? { outputSize } : {}) })
        : mask
          ? await inpaint(model, { ...request, image: image!, mask, strength })
          : await imageToImage(model, { ...request, image: image!, strength });
      timingsBySeed.push({ seed, timings: run.timings });
      return run;
    };
    let result: PipelineResult;
    let ranked: SeedCandidate[] | undefined;
    try {
      if (bestOf !== undefined) ({ best: result, ranked } = await bestOfSeeds(bestOf, checked.seed, generate));
      else result = await generate(checked.seed);
    } finally {
      bar.stop();
      await Promise.all(controlNets.map((c) => c.dispose()));
    }
    const dumps = dumpsBySeed.get(result.parameters.seed!) ?? [];
    // Best of N: the time of all N generations (each one's under timings.perSeed).
    const timings = sumTimings(timingsBySeed.map((t) => t.timings));

    // 6. Write: the PNG (atomic), then the dumps.
    const out = await saveResult(output, result, image);
    if (values.dump !== undefined) {
      fs.mkdirSync(values.dump, { recursive: true });
      for (const d of dumps) await writeNpy(path.join(values.dump, `${d.name}.npy`), { data: d.data, shape: d.dims });
    }

    const summary = {
      output: out,
      width: result.width,
      height: result.height,
      seed: result.parameters.seed,
      provider: model.runtime.provider,
      ...(model.runtime.fallbackReasons.length ? { providerFallback: model.runtime.fallbackReasons } : {}),
      model: { name: model.folder.name, hash: model.folder.hash, testModel: model.folder.isTestModel, dir: model.folder.dir },
      steps: result.parameters.steps,
      stepsRun: result.stepsRun,
      timings: {
        load: model.loadMs,
        ...timings,
        wallOverOrt: timings.total / Math.max(timings.insideOrt, 1e-9),
        ...(ranked ? { perSeed: timingsBySeed.map(({ seed, timings: t }) => ({ seed, ...t })) } : {}),
      },
      metrics: consistencyMetrics(result, ranked),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stdout.write(
        `${out} (${result.width}×${result.height}, seed ${summary.seed}, ${summary.provider}, ` +
          `${(timings.total / 1000).toFixed(2)} s, ${(timings.insideOrt / 1000).toFixed(2)} s in onnxruntime)\n`,
      );
      const c = result.metrics?.consistency;
      if (c) {
        const tried = ranked ? `; best of ${ranked.length} seeds: ${ranked.map((r) => `${r.seed} ${r.consistency.toFixed(4)}`).join(', ')}` : '';
        process.stdout.write(`consistency with the ${c.type} condition: ${c.metric} ${c.value.toFixed(4)} (${c.higherIsBetter ? 'higher' : 'lower'} is better)${tried}\n`);
      }
    }
  } finally {
    await model.dispose();
  }
}

/** Stage times summed over runs (every key any run reports). */
function sumTimings(runs: PipelineTimings[]): PipelineTimings {
  const sum: PipelineTimings = { total: 0, insideOrt: 0, encodePrompt: 0, prepareLatents: 0, denoise: 0, decode: 0 };
  for (const t of runs) for (const [k, v] of Object.entries(t)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

/** `metrics` of --json: ControlNet++'s consistency, and every seed tried by --best-of, best first. */
function consistencyMetrics(result: PipelineResult, ranked: SeedCandidate[] | undefined): Record<string, unknown> {
  const c = result.metrics?.consistency;
  if (!c) return {};
  return {
    consistency: c.value,
    consistency_metric: c.metric,
    consistency_type: c.type,
    consistency_higher_is_better: c.higherIsBetter,
    ...(ranked ? { best_of: ranked } : {}),
  };
}

/** What `--method` runs with: the parsed flags. */
interface InversionFlags {
  image?: string;
  prompt?: string;
  model?: string;
  mask?: string;
  steps?: string;
  guidance?: string;
  provider?: string;
  out?: string;
  json?: boolean;
  method?: string;
  'source-prompt'?: string;
  eta?: string;
  'inner-steps'?: string;
  lr?: string;
  init?: string;
  inversion?: string;
  [flag: string]: string | boolean | undefined;
}

/** One bar per stage (invert, tune, edit) on a terminal; nothing otherwise. */
function inversionBar(): { update(p: InversionProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{stage} [{bar}] {value}/{total} steps {detail}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let stage = '';
  return {
    update(p) {
      const detail = p.innerIterations !== undefined ? `(${p.innerIterations} iterations, loss ${p.loss?.toExponential(2)})` : '';
      if (p.stage !== stage) {
        if (stage) bar.stop();
        stage = p.stage;
        bar.start(p.totalSteps, 0, { stage, detail });
      }
      bar.update(p.step, { stage, detail });
    },
    stop() {
      if (stage) bar.stop();
    },
  };
}

/** `--method pti|nti|ddim`: invert the photo (or take the cached inversion), then edit. */
async function editByInversion(values: InversionFlags): Promise<void> {
  if (values.inversion !== undefined) return reeditByInversion(values);
  const method = values.method as InversionMethod;
  if (!INVERSION_METHODS.includes(method)) throw badArgument(`--method is "${values.method}"; choose one of ${INVERSION_METHODS.join(', ')}.`);
  if (values.image === undefined) throw badArgument('--method needs --image: the photo to invert.');
  for (const flag of ['txt2img', 'strength', 'noise', 'negative', 'scheduler', 'seed', 'width', 'height', 'dump'] as const) {
    if (values[flag] !== undefined) throw badArgument(`--${flag} does not apply to --method ${method} (a deterministic DDIM inversion and edit).`);
  }
  // Options of the optimised inversions only: refused rather than silently ignored.
  if (method === 'ddim') {
    for (const flag of ['inner-steps', 'lr'] as const) {
      if (values[flag] !== undefined) throw badArgument(`--${flag} applies to --method pti and nti (the optimised inversions); ddim inverts without optimising.`);
    }
  }
  if (values.init !== undefined && method !== 'pti') {
    throw badArgument(`--init applies to --method pti (where its tuned prompt embedding starts), not ${method}.`);
  }
  if (values.init !== undefined && values.init !== 'target' && values.init !== 'source') {
    throw badArgument(`--init is "${values.init}"; choose target or source.`);
  }
  const settings = asFlags(() => checkInversionSettings({
    method,
    steps: number('steps', values.steps, true),
    guidance: number('guidance', values.guidance),
    sourcePrompt: values['source-prompt'],
    innerSteps: number('inner-steps', values['inner-steps'], true),
    lr: number('lr', values.lr),
    init: values.init as 'target' | 'source' | undefined,
  }));
  const eta = number('eta', values.eta);
  if (eta !== undefined) asFlags(() => checkEta(eta));
  const output = outputFor(values.out, values.image, 'inversion-edit');
  checkOutputPng(output.path, '--out', [values.image, values.mask]);
  const image = await loadImage(values.image, { name: values.image });
  const mask = values.mask !== undefined ? await loadMask(values.mask, image.width, image.height, { name: values.mask }) : undefined;

  const { dir } = await resolveModelDir(values.model);
  const model = await StableDiffusionModel.load(dir, { provider: values.provider });
  try {
    noteTestModel(model, values.model);
    warnIfTruncated(model, [
      ['--prompt', values.prompt],
      ['--source-prompt', settings.sourcePrompt],
    ]);
    const cacheRoot = defaultCacheRoot();
    const bar = inversionBar();
    let result: InvertEditResult;
    try {
      result = await invertAndEdit(model, {
        image,
        prompt: values.prompt!,
        eta,
        mask,
        settings,
        inversionCache: new InversionCache(path.join(cacheRoot, 'inversions')),
        derivedModels: new DerivedModelCache(path.join(cacheRoot, 'derived')),
        onProgress: (p) => bar.update(p),
        onDerivedModel: (p) => {
          if (!p.cached && p.stage === 'load') process.stderr.write('edit: building the loss-gradient model (once per model; this takes a while)…\n');
        },
      });
    } finally {
      bar.stop();
    }
    const out = await saveResult(output, result, image);
    reportInversionEdit({ out, result, method, inversionId: result.inversion.key, steps: settings.steps, model, json: values.json === true });
  } finally {
    await model.dispose();
  }
}

/** Prints an inversion edit's summary: one JSON object with --json, else one line. */
function reportInversionEdit(r: {
  out: string;
  result: InvertEditResult;
  method: InversionMethod;
  inversionId: string;
  steps: number;
  model: StableDiffusionModel;
  json: boolean;
  reedit?: boolean;
}): void {
  const { result, model } = r;
  const summary = {
    output: r.out,
    width: result.width,
    height: result.height,
    method: r.method,
    eta: result.parameters.extra?.eta,
    inversionId: r.inversionId,
    provider: model.runtime.provider,
    ...(model.runtime.fallbackReasons.length ? { providerFallback: model.runtime.fallbackReasons } : {}),
    model: { name: model.folder.name, hash: model.folder.hash, testModel: model.folder.isTestModel, dir: model.folder.dir },
    steps: r.steps,
    stepsRun: result.stepsRun,
    timings: { load: model.loadMs, ...result.timings, wallOverOrt: result.timings.total / Math.max(result.timings.insideOrt, 1e-9) },
    metrics: result.metrics,
  };
  if (r.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const m = result.metrics;
  const inversion = r.reedit ? `re-edit of inversion ${r.inversionId}` : `inversion ${m.inversion_cached ? 'cached' : `${(m.inversion_ms / 1000).toFixed(2)} s`}`;
  process.stdout.write(
    `${r.out} (${result.width}×${result.height}, ${r.method}, η ${summary.eta}, ${summary.provider}, ${(result.timings.total / 1000).toFixed(2)} s; ` +
      `${inversion}, latent MSE ${m.latent_mse.toExponential(3)}, PSNR ${m.psnr.toFixed(2)} dB)\n`,
  );
}

/** The cache's refusal of an id, told as the flag's: "--inversion <id>: …". */
function asInversionFlag<T>(load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (!(e instanceof PentimentoError) || e.code !== 'BAD_ARGUMENT') throw e;
    throw badArgument(`--inversion: ${e.message.replace(/invert the photo again\.$/, 'run --method again on the photo.').replace(/by inverting the photo with the same settings/, 'by running --method again with the same settings')}`);
  }
}

/** `--inversion ID`: the edit stage alone, from a cached inversion, towards --prompt at --eta. */
async function reeditByInversion(values: InversionFlags): Promise<void> {
  const id = values.inversion!;
  for (const flag of ['method', 'steps', 'guidance', 'source-prompt', 'inner-steps', 'lr', 'init'] as const) {
    if (values[flag] !== undefined) throw badArgument(`--${flag} is fixed by the inversion --inversion re-edits; drop it (or run --method again to make another inversion).`);
  }
  for (const flag of ['txt2img', 'strength', 'noise', 'negative', 'scheduler', 'seed', 'width', 'height', 'dump'] as const) {
    if (values[flag] !== undefined) throw badArgument(`--${flag} does not apply to --inversion (a deterministic edit of a cached inversion).`);
  }
  if (!/^[0-9a-f]{24}$/.test(id)) throw badArgument(`--inversion is "${id}"; give the inversionId of an earlier result (24 hex digits, in its --json or PNG parameters).`);
  const eta = number('eta', values.eta);
  if (eta !== undefined) asFlags(() => checkEta(eta));
  const output = outputFor(values.out, values.image, `inversion-${id}`);
  checkOutputPng(output.path, '--out', [values.image, values.mask]);
  const cache = new InversionCache(path.join(defaultCacheRoot(), 'inversions'));
  const stored = asInversionFlag(() => cache.require(id));
  const image = values.image !== undefined ? await loadImage(values.image, { name: values.image }) : undefined;
  if (image && (image.width !== stored.photo.width || image.height !== stored.photo.height)) {
    throw badArgument(`--image ${values.image} is ${image.width}×${image.height} but inversion ${id} was made from a ${stored.photo.width}×${stored.photo.height} photo.`);
  }
  // The photo kept with the inversion is the one it was made from: another one of the same size
  // would be pasted back around a mask it does not belong to.
  const kept = image ? await cache.loadPhoto(id) : undefined;
  if (image && kept && !Buffer.from(kept.rgb).equals(Buffer.from(image.rgb))) {
    throw badArgument(`--image ${values.image} is not the photo inversion ${id} was made from (their pixels differ); leave --image out to use the one kept with the inversion.`);
  }
  const mask = values.mask !== undefined ? await loadMask(values.mask, stored.photo.width, stored.photo.height, { name: values.mask }) : undefined;

  const { dir } = await resolveModelDir(values.model);
  const model = await StableDiffusionModel.load(dir, { provider: values.provider });
  try {
    noteTestModel(model, values.model);
    warnIfTruncated(model, [['--prompt', values.prompt]]);
    const bar = inversionBar();
    let result: InvertEditResult;
    try {
      result = await reeditInversion(model, { inversionId: id, inversionCache: cache, loaded: stored, prompt: values.prompt!, eta, mask, image, onProgress: (p) => bar.update(p) });
    } finally {
      bar.stop();
    }
    const out = await saveResult(output, result, image);
    reportInversionEdit({ out, result, method: stored.settings.method, inversionId: id, steps: stored.settings.steps, model, json: values.json === true, reedit: true });
  } finally {
    await model.dispose();
  }
}

await runCli('edit', main);
