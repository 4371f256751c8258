import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress, JobResult, ProjectState } from '../../main/contract/contract';
import { EngineService } from '../../main/engine/service/EngineService';
import { startWebServer, type WebServer } from '../../main/web/WebServer';
import { resultSteps } from '../../renderer/src/editor/resultSteps';
import { testModelDir } from '../fixtures/models';
import { connect, TestPeer } from './wsClient';

let engine: EngineService;
let server: WebServer;
let peer: TestPeer;
let rendererDir: string;
let userDataDir: string;

beforeAll(async () => {
  rendererDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-renderer-'));
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-steps-'));
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  engine = await EngineService.create({ modelDir: await testModelDir('tiny'), provider: 'cpu', userDataDir });
  server = await startWebServer({ engine, rendererDir, port: 0 });
  const ws = await connect(`ws://127.0.0.1:${server.port}/engine?token=${server.token}`, `http://127.0.0.1:${server.port}`);
  if (!('send' in ws)) throw new Error(`refused with ${ws.refused}`);
  peer = new TestPeer(ws);
}, 120_000);

afterAll(async () => {
  peer?.ws.close();
  await server?.close();
  await engine?.dispose();
  for (const dir of [rendererDir, userDataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(params: Record<string, unknown>): Promise<{ result: JobResult; progress: JobProgress[] }> {
  const response = await peer.request('generate', params);
  if (!response.ok) throw new Error(`${response.error.code}: ${response.error.message}`);
  const { jobId } = response.result as { jobId: string };
  const done = await peer.nextEvent((e) => (e.event === 'result' || e.event === 'failed') && (e.payload as { jobId: string }).jobId === jobId, 60_000);
  if (done.event === 'failed') throw new Error(JSON.stringify(done.payload));
  const progress = peer.events.filter((e) => e.event === 'progress' && (e.payload as JobProgress).jobId === jobId).map((e) => e.payload as JobProgress);
  return { result: done.payload as JobResult, progress };
}

describe('steps requested and steps run, as the real engine reports them over the wire', () => {
  it('img2img at strength 0.5 runs ⌊6 · 0.5⌋ = 3 of 6 steps: progress counts 3, the result records both, and so does the saved project', async () => {
    const photo = readFileSync(path.resolve(process.cwd(), 'tests/fixtures/photos/chelsea.png')).toString('base64');
    const created = await peer.request('createProject', { image: { base64: photo, name: 'chelsea.png' } });
    if (!created.ok) throw new Error(created.error.message);
    const projectId = (created.result as ProjectState).project.id;

    const { result, progress } = await run({ kind: 'img2img', prompt: 'a cat', image: { base64: photo }, steps: 6, strength: 0.5, seed: 1, projectId });
    expect(progress.map((p) => p.totalSteps)).toEqual([3, 3, 3]);
    expect(result.parameters).toMatchObject({ steps: 6, strength: 0.5, extra: { stepsRun: 3 } });
    expect(resultSteps(result.parameters)).toEqual({ requested: 6, run: 3 });

    // Reopened, the project's result still says so (the count travels in the PNG's parameters).
    const reopened = await peer.request('openProject', { projectId });
    if (!reopened.ok) throw new Error(reopened.error.message);
    expect(resultSteps((reopened.result as ProjectState).results[0].parameters)).toEqual({ requested: 6, run: 3 });
  }, 120_000);

  it('txt2img runs every step asked for and records no separate count', async () => {
    const { result, progress } = await run({ kind: 'txt2img', prompt: 'a boat', steps: 2, seed: 3, width: 64, height: 64 });
    expect(progress.map((p) => p.step)).toEqual([1, 2]);
    expect(result.parameters.steps).toBe(2);
    expect((result.parameters.extra as Record<string, unknown> | undefined)?.stepsRun).toBeUndefined();
    expect(resultSteps(result.parameters)).toEqual({ requested: 2 });
  }, 120_000);
});
