import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readSchedulerConfig, type SchedulerFolderConfig } from '../schedulers';
import { ClipTokenizer } from '../tokenizer/ClipTokenizer';
import { OnnxRuntime, type ModelSession, type RuntimeOptions } from '../runtime/OnnxRuntime';
import { ClipTextEncoder } from './ClipTextEncoder';
import { openModelFolder, type ModelDescription, type ModelFolder } from './ModelFolder';
import { UNet } from './UNet';
import { VaeDecoder } from './VaeDecoder';
import { VaeEncoder } from './VaeEncoder';

/** The named components a pipeline runs over, as in model_index.json. */
export interface StableDiffusionComponents {
  tokenizer: ClipTokenizer;
  text_encoder: ClipTextEncoder;
  unet: UNet;
  vae_encoder: VaeEncoder;
  vae_decoder: VaeDecoder;
  scheduler: SchedulerFolderConfig;
}

/**
 * A model folder with its sessions open. The folder is validated completely (every file,
 * every external weight's length) before the first session is created.
 */
export class StableDiffusionModel {
  private constructor(
    readonly folder: ModelFolder,
    readonly runtime: OnnxRuntime,
    readonly components: StableDiffusionComponents,
    /** Milliseconds spent opening the folder and creating sessions. */
    readonly loadMs: number,
    private readonly ownsRuntime: boolean,
  ) {}

  static async load(dir: string, options: RuntimeOptions & { runtime?: OnnxRuntime } = {}): Promise<StableDiffusionModel> {
    const start = performance.now();
    const folder = openModelFolder(dir);
    const tokenizer = ClipTokenizer.fromFolder(folder.tokenizerDir);
    const scheduler = await readSchedulerConfig(folder.schedulerConfigFile);
    const runtime = options.runtime ?? new OnnxRuntime(options);
    const sessions: ModelSession[] = [];
    const open = async (file: string) => {
      const session = await runtime.createSession(file);
      sessions.push(session);
      return session;
    };
    try {
      const te = await open(folder.parts.text_encoder.file);
      const unet = await open(folder.parts.unet.file);
      // Without vae_encoder/ only text-to-image runs; photo edits fail naming the missing file.
      const encPart = folder.parts.vae_encoder;
      const enc = encPart ? await open(encPart.file) : undefined;
      const dec = await open(folder.parts.vae_decoder.file);
      const components: StableDiffusionComponents = {
        tokenizer,
        text_encoder: new ClipTextEncoder(te),
        unet: new UNet(unet, folder.unetMaxBatch),
        vae_encoder: enc ? new VaeEncoder(enc, folder.vaeScalingFactor) : VaeEncoder.absent(path.join(folder.dir, 'vae_encoder', 'model.onnx'), folder.vaeScalingFactor),
        vae_decoder: new VaeDecoder(dec, folder.vaeScalingFactor),
        scheduler,
      };
      return new StableDiffusionModel(folder, runtime, components, performance.now() - start, !options.runtime);
    } catch (e) {
      await Promise.all(sessions.map((s) => s.dispose()));
      if (!options.runtime) await runtime.dispose();
      throw e;
    }
  }

  get description(): ModelDescription {
    const { parts: _parts, tokenizerDir: _t, schedulerConfigFile: _s, modelIndex: _m, ...description } = this.folder;
    return description;
  }

  async dispose(): Promise<void> {
    const c = this.components;
    const sessions = [c.text_encoder.session, c.unet.session, c.vae_decoder.session];
    if (c.vae_encoder.available) sessions.push(c.vae_encoder.session);
    await Promise.all(sessions.map((s) => s.dispose()));
    if (this.ownsRuntime) await this.runtime.dispose();
  }
}
