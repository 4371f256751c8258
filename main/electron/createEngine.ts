import { PentimentoError } from '../engine/errors';
import type { EngineFactory, EngineHandler, EngineOptions } from '../contract/EngineHandler';

// Loaded lazily and through a variable so the shell builds and typechecks while the engine
// service is still being written; switch to a literal `import('../engine/service/EngineService')`
// once it exists, so the bundler includes it in out/main.
const ENGINE_SERVICE_MODULE = '../engine/service/EngineService';

async function loadEngineService(): Promise<EngineFactory> {
  let mod: { EngineService?: { create?: EngineFactory } };
  try {
    mod = await import(/* @vite-ignore */ ENGINE_SERVICE_MODULE);
  } catch (e) {
    throw new PentimentoError(
      'INTERNAL',
      `The engine service could not be loaded (${e instanceof Error ? e.message : String(e)}); ` +
        'rebuild Pentimento with `npm run build`.',
    );
  }
  const create = mod.EngineService?.create;
  if (typeof create !== 'function') {
    throw new PentimentoError('INTERNAL', 'The engine service module does not export EngineService.create; rebuild Pentimento.');
  }
  return create.bind(mod.EngineService);
}

/** The one place the real engine is loaded: every host (utilityProcess, web server, CLI) comes here. */
export async function createEngine(opts: EngineOptions, factory?: EngineFactory): Promise<EngineHandler> {
  const create = factory ?? (await loadEngineService());
  return create(opts);
}
