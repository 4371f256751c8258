/**
 * Entry point of the Electron utilityProcess that hosts the engine. onnxruntime's run() blocks
 * its thread, and a native crash or OOM must not take the window down: here the engine gets a
 * process of its own and main only routes wire messages to and from it.
 */
import { serveEngineOnWire } from '../contract/serveEngineOnWire';
import { createEngine } from './createEngine';
import { parseEngineOptionsArg } from './engineOptionsArg';
import { LazyEngine } from './LazyEngine';

const parentPort = process.parentPort;
const engine = new LazyEngine(() => createEngine(parseEngineOptionsArg(process.argv)));
const endpoint = serveEngineOnWire(engine, (message) => parentPort.postMessage(message));
parentPort.on('message', (event) => endpoint.receive(event.data));
