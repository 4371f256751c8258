import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEventName, JobProgress } from '../../main/contract/contract';
import { EngineSupervisor, engineStoppedError, type EngineChild } from '../../main/electron/EngineSupervisor';
import { PentimentoError } from '../../main/engine/errors';
import { FAKE_MODEL, HANG } from '../web/fakeEngine';

const CHILD = path.resolve(import.meta.dirname, 'fakeEngineChild.ts');

/** Spawns real Node processes running the fake engine; remembers them to kill or inspect. */
function processSpawner() {
  const children: ChildProcess[] = [];
  const spawn = (): EngineChild => {
    const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    return {
      postMessage: (m) => void child.send(m),
      onMessage: (l) => void child.on('message', l),
      onExit: (l) =>
        void child.on('exit', (code, signal) => l(code ?? 128 + (signal ? os.constants.signals[signal] : 0), signal ?? undefined)),
      kill: () => void child.kill(),
    };
  };
  return { spawn, children };
}

function collectEvents(supervisor: EngineSupervisor) {
  const events: { event: EngineEventName; payload: unknown }[] = [];
  const waiters: (() => void)[] = [];
  supervisor.on((event, payload) => {
    events.push({ event, payload });
    for (const w of waiters.splice(0)) w();
  });
  const until = async (test: (e: { event: EngineEventName; payload: unknown }) => boolean) => {
    for (;;) {
      const hit = events.find(test);
      if (hit) return hit;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { events, until };
}

let supervisor: EngineSupervisor | undefined;
afterEach(() => supervisor?.dispose());

describe('EngineSupervisor with a real child process', () => {
  it('starts the process on the first request, routes requests and forwards job events', async () => {
    const { spawn, children } = processSpawner();
    supervisor = new EngineSupervisor(spawn);
    const { events, until } = collectEvents(supervisor);
    expect(supervisor.running).toBe(false);
    expect(await supervisor.request('getModelInfo', undefined)).toEqual(FAKE_MODEL);
    expect(children).toHaveLength(1);
    const { jobId } = await supervisor.request('generate', { kind: 'txt2img', prompt: 'a cat', steps: 3 });
    await until((e) => e.event === 'result');
    const steps = events.filter((e) => e.event === 'progress').map((e) => (e.payload as JobProgress).step);
    expect(steps).toEqual([1, 2, 3]);
    expect(events.at(-1)).toMatchObject({ event: 'result', payload: { jobId } });
  });

  it('fails the running job and the waiting request when the process dies, then restarts on the next request', async () => {
    const { spawn, children } = processSpawner();
    supervisor = new EngineSupervisor(spawn);
    const { until } = collectEvents(supervisor);
    const { jobId } = await supervisor.request('generate', { kind: 'txt2img', prompt: 'a long job', steps: 500 });
    await until((e) => e.event === 'progress');
    const waiting = supervisor.request('countTokens', { text: HANG });

    children[0].kill('SIGKILL');

    const error = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PentimentoError);
    expect((error as PentimentoError).code).toBe('INTERNAL');
    expect((error as PentimentoError).message).toMatch(/^The engine process stopped \(exit code 137, SIGKILL\)/);
    const failed = await until((e) => e.event === 'failed');
    expect(failed.payload).toMatchObject({ jobId, error: { code: 'INTERNAL' } });
    expect(supervisor.running).toBe(false);

    expect(await supervisor.request('countTokens', { text: 'back again' })).toEqual({ count: 2, max: 75, truncated: false });
    expect(children).toHaveLength(2);
    expect(children[1].pid).not.toBe(children[0].pid);
  });
});

describe('engineStoppedError', () => {
  it('names out-of-memory deaths as OUT_OF_MEMORY and says the engine restarts', () => {
    const oom = engineStoppedError(9, 'oom');
    expect(oom.code).toBe('OUT_OF_MEMORY');
    expect(oom.message).toMatch(/^The engine process stopped \(exit code 9, oom\): it ran out of memory/);
    expect(oom.message).toContain('restarts on your next request');
    // Windows reports OOM as 0xE0000008, which arrives as a negative 32-bit integer.
    expect(engineStoppedError(0xe0000008 | 0).code).toBe('OUT_OF_MEMORY');
  });

  it('reports other deaths as INTERNAL with the exit code', () => {
    const crash = engineStoppedError(139, 'crashed');
    expect(crash).toEqual({
      code: 'INTERNAL',
      message: 'The engine process stopped (exit code 139, crashed). It restarts on your next request; if this keeps happening, please report it.',
    });
  });
});
