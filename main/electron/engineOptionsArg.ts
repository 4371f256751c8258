import type { EngineOptions } from '../contract/EngineHandler';

const FLAG = '--engine-options=';

/** Engine options travel to the utilityProcess as one argv entry of JSON. */
export function engineOptionsArg(opts: EngineOptions): string {
  return FLAG + JSON.stringify(opts);
}

export function parseEngineOptionsArg(argv: readonly string[]): EngineOptions {
  const arg = argv.find((a) => a.startsWith(FLAG));
  if (!arg) throw new Error(`The engine process was started without ${FLAG}{…}.`);
  return JSON.parse(arg.slice(FLAG.length)) as EngineOptions;
}
