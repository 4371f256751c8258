import fs from 'node:fs';
import path from 'node:path';
import type { ConditionType as ContractConditionType, ControlNetInfo } from '../../contract/contract';
import { ANNOTATOR_SOURCES, annotatorFile, isAnnotatorType } from '../control/annotatorSlots';
import { ControlNet, resolveControlNetFile } from '../control/ControlNet';
import { CONDITION_TYPES, type ConditionType } from '../control/ConditionType';
import { badArgument, PentimentoError } from '../errors';
import type { OnnxRuntime } from '../runtime/OnnxRuntime';

// The contract spells the condition types out for the renderer; both lists must stay equal.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const typesAgree: Same<ConditionType, ContractConditionType> = true;
void typesAgree;

/** The id of the embedded test model's ControlNet (not a folder name: ':' cannot start one on Windows). */
export const EMBEDDED_CONTROLNET_ID = 'builtin:test-controlnet';

/** What a result's parameters record for the embedded test ControlNet: the keyword `npm run edit -- --control` takes for it. */
export const EMBEDDED_CONTROLNET_NAME = 'test';

/** Folder below userDataDir holding one folder per installed ControlNet. */
export const CONTROLNETS_FOLDER = 'controlnets';

/** Name fragments of the condition a ControlNet was trained on (lllyasviel's and ControlNet++'s names). */
const TYPE_BY_NAME: [RegExp, ConditionType][] = [
  [/canny/i, 'canny'],
  [/depth/i, 'depth'],
  [/seg/i, 'segmentation'],
  [/lineart/i, 'lineart'],
  [/softedge|soft[-_ ]edge|hed|pidi/i, 'softedge'],
];

function conditionTypeOf(name: string): ConditionType | undefined {
  return TYPE_BY_NAME.find(([re]) => re.test(name))?.[1];
}

/** config.json beside the model says `"pentimento": { "testModel": true }` (a generated ControlNet). */
function isTestControlNet(file: string): boolean {
  for (const dir of [path.dirname(file), path.dirname(path.dirname(file))]) {
    try {
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { pentimento?: { testModel?: unknown } };
      return config.pentimento?.testModel === true;
    } catch {
      // No (readable) config here.
    }
  }
  return false;
}

export interface ControlResourcesOptions {
  /** ControlNets are found in `<userDataDir>/controlnets/<name>/`, annotators in `<userDataDir>/models/annotators/`. */
  userDataDir?: string;
  /** With the embedded test model: its random-weight ControlNet folder and annotators' models folder. */
  embedded?: { controlNetDir: string; annotatorsDir: string };
}

/**
 * What controlled generation needs besides the model: the installed ControlNets (listed, and
 * opened once each on the model's runtime) and the annotator slots. With the embedded test model,
 * its random-weight ControlNet and annotators fill in where the user installed none.
 */
export class ControlResources {
  private readonly opened = new Map<string, Promise<ControlNet>>();

  constructor(
    private readonly runtime: OnnxRuntime,
    private readonly options: ControlResourcesOptions,
  ) {}

  /** Installed ControlNets by name, then the embedded test one. */
  list(): ControlNetInfo[] {
    const list: ControlNetInfo[] = [];
    const root = this.options.userDataDir && path.join(this.options.userDataDir, CONTROLNETS_FOLDER);
    const entries = root && fs.existsSync(root) ? fs.readdirSync(root, { withFileTypes: true }) : [];
    for (const e of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      let file: string;
      try {
        file = resolveControlNetFile(path.join(root!, e.name));
      } catch {
        continue; // a folder without a model (being copied, or something else)
      }
      const type = conditionTypeOf(e.name);
      list.push({ id: e.name, name: e.name, file, isTestModel: isTestControlNet(file), ...(type ? { conditionType: type } : {}) });
    }
    const embedded = this.options.embedded;
    if (embedded && fs.existsSync(path.join(embedded.controlNetDir, 'model.onnx'))) {
      list.push({ id: EMBEDDED_CONTROLNET_ID, name: 'Test ControlNet', file: path.join(embedded.controlNetDir, 'model.onnx'), isTestModel: true });
    }
    return list;
  }

  /** The ControlNet of `id` (see list), or BAD_ARGUMENT listing the valid ids. */
  find(id: unknown): ControlNetInfo {
    const list = this.list();
    const found = list.find((c) => c.id === id);
    if (found) return found;
    const where = this.options.userDataDir ? path.join(this.options.userDataDir, CONTROLNETS_FOLDER, '<name>', 'model.onnx') : '<user data>/controlnets/<name>/model.onnx';
    throw badArgument(
      list.length
        ? `No ControlNet "${String(id)}"; use one of ${list.map((c) => c.id).join(', ')}.`
        : `No ControlNet "${String(id)}": none is installed. Put an SD1.5 ControlNet ONNX export at ${where}.`,
      { controlnet: id, valid: list.map((c) => c.id) },
    );
  }

  /** The ControlNet opened on the model's runtime, once per file for the life of the engine. */
  open(id: string): Promise<ControlNet> {
    const { file } = this.find(id);
    let cn = this.opened.get(file);
    if (!cn) {
      cn = ControlNet.open(this.runtime, file);
      cn.catch(() => this.opened.delete(file));
      this.opened.set(file, cn);
    }
    return cn;
  }

  /**
   * The models folder whose annotators/ holds `type`'s annotator: the user's
   * `<userDataDir>/models`, else the embedded test annotators. Undefined for canny (no model);
   * MODEL_MISSING naming the file and what goes in it when neither has one.
   */
  annotatorsDir(type: ConditionType): string | undefined {
    if (!isAnnotatorType(type)) return undefined;
    const user = this.options.userDataDir && path.join(this.options.userDataDir, 'models');
    if (user && fs.existsSync(annotatorFile(user, type))) return user;
    const embedded = this.options.embedded?.annotatorsDir;
    if (embedded && fs.existsSync(annotatorFile(embedded, type))) return embedded;
    const file = annotatorFile(user ?? '<user data>/models', type);
    throw new PentimentoError(
      'MODEL_MISSING',
      `The ${type} condition needs an annotator model at ${file}, which is missing. Put there ${ANNOTATOR_SOURCES[type]}; its input is [1,3,H,W] RGB in 0…1. Canny needs no model.`,
      { type, file },
    );
  }

  /** True when `type`'s annotator is a random-weight test one (its maps show nothing real). */
  isTestAnnotator(type: ConditionType): boolean {
    const dir = this.annotatorsDir(type);
    return dir !== undefined && dir === this.options.embedded?.annotatorsDir;
  }

  static checkType(type: unknown, what: string): ConditionType {
    if (!(CONDITION_TYPES as readonly unknown[]).includes(type)) {
      throw badArgument(`${what}: condition type is "${String(type)}"; use one of ${CONDITION_TYPES.join(', ')}.`, { type, valid: [...CONDITION_TYPES] });
    }
    return type as ConditionType;
  }

  async dispose(): Promise<void> {
    const all = [...this.opened.values()];
    this.opened.clear();
    await Promise.all(all.map((p) => p.then((cn) => cn.dispose(), () => undefined)));
  }
}
