import path from 'node:path';
import { ANNOTATOR_FOLDER } from '../engine/control/annotatorSlots';
import { DEFAULT_CANNY_HIGH, DEFAULT_CANNY_LOW } from '../engine/control/cannyEdges';
import { CONDITION_TYPES, parseConditionType } from '../engine/control/ConditionType';
import { extractCondition, rawCondition } from '../engine/control/extractCondition';
import { compareConditions, type ConsistencyMetric } from '../engine/control/metrics/compareConditions';
import { checkConditionHasEdges, checkScorable, consistencyScore, hasEdgePixels } from '../engine/control/consistencyScore';
import { conditionSize, resizeCondition } from '../engine/control/resizeCondition';
import { badArgument } from '../engine/errors';
import { loadImage } from '../engine/image/loadImage';
import { savePng } from '../engine/image/savePng';
import { OnnxRuntime } from '../engine/runtime/OnnxRuntime';
import { defaultUserDataDir } from '../web/defaultUserDataDir';
import { annotatorsFor } from './annotatorsFor';
import { checkOutputPng, parseCliArgs, resolveUserPath, runCli } from './cliUtil';

const USAGE = `Usage: npm run control -- extract --type TYPE --image IN --out OUT [options]
       npm run control -- score --type TYPE --image RESULT --condition COND [--extracted] [--json] [options]

extract   writes the ControlNet condition of a photo as a PNG (white-on-black lines, depth with
          near = bright, ADE20K-coloured segmentation)
score     ControlNet++'s consistency of a result with a condition: the condition is extracted
          from RESULT with the same extractor and compared with COND — canny: F1 over edge
          pixels; lineart, softedge: MS-SSIM; depth: RMSE on 0–255 (lower is better);
          segmentation: mean IoU over the classes present. COND must have RESULT's aspect
          ratio (within 2%) and at least 8 px a side; a canny COND without edges is refused
          (F1 over edge pixels is undefined for it)

  --type TYPE        ${CONDITION_TYPES.join(' | ')} (aliases: seg, hed)
  --image PATH       extract: the photo; score: the generated result
  --out PATH         extract: output PNG (written whole or not at all)
  --condition PATH   score: the input condition map (a black-on-white sketch is inverted)
  --extracted        score: RESULT is already a condition map; compare it directly
  --raw              extract: IN is already a condition map; only normalise and resize it
  --resolution N     extract: resize to N on the long side, sides rounded to multiples of 64
                     (the generation size); default: keep the image's size
  --low F --high F   canny hysteresis thresholds on a 0–1 step-height scale; default
                     ${DEFAULT_CANNY_LOW} and ${DEFAULT_CANNY_HIGH} (like OpenCV's Canny(100, 200) on 0–255)
  --models DIR       models folder; annotators are read from DIR/${ANNOTATOR_FOLDER}/ (depth.onnx,
                     seg.onnx, lineart.onnx, hed.onnx); default <user data>/models, where a missing
                     one is the random-weight test annotator (as with the app's test model; a
                     notice on stderr says so)
  --provider NAME    auto | cpu | cuda | dml | coreml for the annotators (default auto)
  --json             score: print only {"score", "metric", "higherIsBetter"} (one JSON line) on stdout
Relative paths are relative to the folder you run the command in.`;

function threshold(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw badArgument(`--${name} is "${text}"; give a number ≥ 0.`);
  return v;
}

function required(value: string | undefined, flag: string, command: string): string {
  if (value === undefined) throw badArgument(`${command} needs ${flag}; see --help.`);
  return value;
}

/** A required path flag, resolved against the user's folder. */
function requiredPath(value: string | undefined, flag: string, command: string): string {
  return resolveUserPath(required(value, flag, command));
}

async function main(): Promise<void> {
  const { values, positionals } = parseCliArgs(process.argv.slice(2), {
    type: { type: 'string' },
    image: { type: 'string' },
    out: { type: 'string' },
    condition: { type: 'string' },
    extracted: { type: 'boolean' },
    raw: { type: 'boolean' },
    resolution: { type: 'string' },
    low: { type: 'string' },
    high: { type: 'string' },
    models: { type: 'string' },
    provider: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const [command, ...rest] = positionals;
  if (command !== 'extract' && command !== 'score') {
    throw badArgument(command === undefined ? 'Give a command, extract or score; see --help.' : `Unknown command "${command}"; use extract or score.`);
  }
  if (rest.length > 0) throw badArgument(`Unexpected argument "${rest[0]}"; see --help.`);
  if (command === 'extract' && values.json) throw badArgument('--json applies to score (extract writes an image); drop it.');
  const type = parseConditionType(required(values.type, '--type', command));
  // Without --models, as the app with its embedded test model: an annotator the user has not
  // installed is the random-weight test one, with a notice.
  // Asked for only where an annotator runs, after the other checks.
  const options = () => ({
    low: threshold('low', values.low),
    high: threshold('high', values.high),
    modelsDir:
      values.models !== undefined
        ? resolveUserPath(values.models)
        : annotatorsFor(type, path.join(defaultUserDataDir(), 'models'), { testFallback: true, cli: 'control' }),
  });
  threshold('low', values.low);
  threshold('high', values.high);
  const runtime = new OnnxRuntime({ provider: values.provider });
  // A forced provider known unusable fails here, before a test-annotator notice says the run goes on.
  runtime.checkAvailable();
  try {
    if (command === 'extract') {
      const imageFile = requiredPath(values.image, '--image', command);
      const out = requiredPath(values.out, '--out', command);
      checkOutputPng(out, '--out', [imageFile], { carriesParameters: false });
      const image = await loadImage(imageFile);
      let size = { width: image.width, height: image.height };
      if (values.resolution !== undefined) {
        const n = Number(values.resolution);
        if (!Number.isInteger(n) || n < 64) throw badArgument(`--resolution is ${JSON.stringify(values.resolution)}; give a whole number ≥ 64.`);
        size = conditionSize(image.width, image.height, n);
      }
      const condition = await extractCondition(type, image, { ...(values.raw ? {} : options()), ...size, raw: values.raw, runtime });
      await savePng(out, condition.rgb, condition.width, condition.height);
      process.stdout.write(`${type} condition ${condition.width}×${condition.height} written to ${out}\n`);
      // Written all the same (it is what was asked), but neither score nor edit can use it.
      if (type === 'canny' && !hasEdgePixels(condition)) {
        process.stderr.write(
          `control: warning: the canny map has no edge pixels (a flat photo, or thresholds too high for it): score and edit refuse it; try lower --low/--high.\n`,
        );
      }
      return;
    }
    const result = await loadImage(requiredPath(values.image, '--image', command));
    const condition = rawCondition(type, await loadImage(requiredPath(values.condition, '--condition', command)));
    checkScorable(condition, result);
    checkConditionHasEdges(type, condition);
    let score: ConsistencyMetric;
    if (values.extracted) {
      const extracted = await resizeCondition(type, rawCondition(type, result), condition.width, condition.height);
      score = compareConditions(type, condition, extracted);
    } else {
      score = await consistencyScore(type, condition, result, { ...options(), runtime });
    }
    // --json: the JSON object alone on stdout, so it pipes straight into a JSON tool.
    if (values.json) process.stdout.write(`${JSON.stringify({ score: score.value, metric: score.metric, higherIsBetter: score.higherIsBetter })}\n`);
    else process.stdout.write(`${score.metric} ${score.value.toFixed(4)} (${score.higherIsBetter ? 'higher' : 'lower'} is better)\n`);
  } finally {
    await runtime.dispose();
  }
}

await runCli('control', main);
