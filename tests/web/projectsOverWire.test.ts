import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobResult, ProjectState, ProjectSummary } from '../../main/contract/contract';
import { startWebServer, type WebServer } from '../../main/web/WebServer';
import { FakeEngine } from './fakeEngine';
import { connect, TestPeer } from './wsClient';

let server: WebServer;
let userDataDir: string;
let rendererDir: string;
let peer: TestPeer;

beforeAll(async () => {
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-wire-projects-'));
  rendererDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-renderer-'));
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  server = await startWebServer({ engine: new FakeEngine(5, userDataDir), rendererDir, port: 0 });
  const ws = await connect(`ws://127.0.0.1:${server.port}/engine?token=${server.token}`, `http://127.0.0.1:${server.port}`);
  if (!('send' in ws)) throw new Error(`refused with ${ws.refused}`);
  peer = new TestPeer(ws);
});

afterAll(async () => {
  peer?.ws.close();
  await server?.close();
  for (const dir of [userDataDir, rendererDir]) rmSync(dir, { recursive: true, force: true });
});

async function ok<T>(method: string, params?: unknown): Promise<T> {
  const response = await peer.request(method, params);
  if (!response.ok) throw new Error(`${method} failed: ${response.error.code} ${response.error.message}`);
  return response.result as T;
}

describe('project requests over the browser-mode wire', () => {
  it('creates a project, saves a job result into it engine-side, and reopens it', async () => {
    const png = await sharp({ create: { width: 24, height: 16, channels: 3, background: { r: 200, g: 100, b: 50 } } }).png().toBuffer();
    const created = await ok<ProjectState>('createProject', { image: { base64: png.toString('base64'), name: 'tile.png' } });
    expect(created.project).toMatchObject({ name: 'tile.png', width: 24, height: 16 });
    const id = created.project.id;

    const { jobId } = await ok<{ jobId: string }>('generate', {
      kind: 'img2img',
      prompt: 'warmer',
      steps: 2,
      seed: 5,
      image: { base64: created.photo.pngBase64 },
      projectId: id,
    });
    const event = await peer.nextEvent((e) => e.event === 'result' && (e.payload as JobResult).jobId === jobId);
    const result = event.payload as JobResult;
    expect(result.saved?.projectId).toBe(id);
    // On disk before the UI heard of it.
    expect(readdirSync(path.join(userDataDir, 'projects', id, 'results'))).toContain(`${result.saved!.resultId}.png`);

    const reopened = await ok<ProjectState>('openProject', { projectId: id });
    expect(reopened.results.map((r) => [r.id, r.jobId, r.parameters.prompt])).toEqual([[result.saved!.resultId, jobId, 'warmer']]);
    const list = await ok<ProjectSummary[]>('listProjects');
    expect(list.map((p) => [p.id, p.resultCount])).toEqual([[id, 1]]);
  });

  it('refuses a generate request naming a project that does not exist, before queueing it', async () => {
    const response = await peer.request('generate', { kind: 'txt2img', prompt: 'x', projectId: 'p-nowhere' });
    expect(response).toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENT' } });
  });
});
