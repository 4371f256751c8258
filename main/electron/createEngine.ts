import type { EngineFactory, EngineHandler, EngineOptions } from '../contract/EngineHandler';

/**
 * The one place the real engine is loaded: every host (utilityProcess, web server, CLI) comes
 * here. The import is dynamic so a host that is handed a factory (tests) never loads
 * onnxruntime, and literal so the bundler includes the engine in out/main.
 */
export async function createEngine(opts: EngineOptions, factory?: EngineFactory): Promise<EngineHandler> {
  if (factory) return factory(opts);
  const { EngineService } = await import('../engine/service/EngineService');
  return EngineService.create(opts);
}
