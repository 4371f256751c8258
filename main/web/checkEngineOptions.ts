import type { EngineOptions } from '../contract/EngineHandler';
import { badArgument } from '../engine/errors';

/**
 * The engine options `npm run web` was given, checked before the server starts: a mistyped
 * --model-dir or --provider is one error line at once, not a page on which every request fails.
 * Throws PentimentoError: MODEL_MISSING / BAD_MODEL naming the folder or file, BAD_ARGUMENT for
 * a provider name, PROVIDER_UNAVAILABLE for a forced provider known unusable here. The engine itself still loads lazily, on the page's first request.
 */
export async function checkEngineOptions(opts: Pick<EngineOptions, 'modelDir' | 'provider'>): Promise<void> {
  if (opts.provider !== undefined || process.env.PENTIMENTO_PROVIDER !== undefined) {
    const { OnnxRuntime } = await import('../engine/runtime/OnnxRuntime');
    // The constructor resolves the name (or $PENTIMENTO_PROVIDER) and rejects unknown ones; it opens no session.
    // A forced provider known unusable here (CUDA without its library) is refused too, as the CLIs do.
    new OnnxRuntime({ provider: opts.provider }).checkAvailable();
  }
  if (opts.modelDir !== undefined) {
    if (opts.modelDir.trim() === '') throw badArgument('--model-dir is empty; pass the folder of a diffusers ONNX export, or leave it out for the default model.');
    const { openModelFolder } = await import('../engine/model/ModelFolder');
    openModelFolder(opts.modelDir, '--model-dir');
  }
}
