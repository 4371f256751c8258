// A real child process hosting the fake engine over Node's IPC channel, standing in for the
// Electron utilityProcess in EngineSupervisor's tests (so crashes are real process deaths).
import { serveEngineOnWire } from '../../main/contract/serveEngineOnWire';
import { FakeEngine } from '../web/fakeEngine';

const engine = new FakeEngine(Number(process.env.FAKE_STEP_MS ?? 20));
const endpoint = serveEngineOnWire(engine, (message) => process.send!(message));
process.on('message', (message) => endpoint.receive(message));
