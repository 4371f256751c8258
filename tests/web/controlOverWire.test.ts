import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConditionPreview, ControlNetInfo, JobProgress, JobResult } from '../../main/contract/contract';
import { startWebServer, type WebServer } from '../../main/web/WebServer';
import { FAKE_CONTROLNETS, FakeEngine } from './fakeEngine';
import { connect, TestPeer } from './wsClient';

let server: WebServer;
let engine: FakeEngine;
let rendererDir: string;
let peer: TestPeer;

beforeAll(async () => {
  rendererDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-renderer-'));
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  engine = new FakeEngine(5);
  server = await startWebServer({ engine, rendererDir, port: 0 });
  const ws = await connect(`ws://127.0.0.1:${server.port}/engine?token=${server.token}`, `http://127.0.0.1:${server.port}`);
  if (!('send' in ws)) throw new Error(`refused with ${ws.refused}`);
  peer = new TestPeer(ws);
});

afterAll(async () => {
  peer?.ws.close();
  await server?.close();
  rmSync(rendererDir, { recursive: true, force: true });
});

async function ok<T>(method: string, params?: unknown): Promise<T> {
  const response = await peer.request(method, params);
  if (!response.ok) throw new Error(`${method} failed: ${response.error.code} ${response.error.message}`);
  return response.result as T;
}

const photo = async () => (await sharp({ create: { width: 40, height: 24, channels: 3, background: { r: 90, g: 160, b: 30 } } }).png().toBuffer()).toString('base64');

describe('Structure and inversion requests over the browser-mode wire', () => {
  it('lists ControlNets, previews a condition and passes MODEL_MISSING through as data', async () => {
    expect(await ok<ControlNetInfo[]>('listControlNets')).toEqual(FAKE_CONTROLNETS);
    const preview = await ok<ConditionPreview>('extractCondition', { type: 'canny', image: { base64: await photo() } });
    expect(preview).toMatchObject({ type: 'canny', testAnnotator: false, image: { width: 40, height: 24 } });
    const missing = await peer.request('extractCondition', { type: 'segmentation', image: { base64: await photo() } });
    expect(missing).toMatchObject({ ok: false, error: { code: 'MODEL_MISSING', message: expect.stringContaining('seg.onnx') } });
  });

  it('carries a controlled result\'s consistency and best-of ranking', async () => {
    const { jobId } = await ok<{ jobId: string }>('generate', {
      kind: 'txt2img',
      prompt: 'p',
      steps: 1,
      seed: 10,
      bestOf: 2,
      control: [{ controlnet: FAKE_CONTROLNETS[1].id, type: 'canny', image: { base64: await photo() } }],
    });
    const result = (await peer.nextEvent((e) => e.event === 'result' && (e.payload as JobResult).jobId === jobId)).payload as JobResult;
    expect(result.consistency).toMatchObject({ type: 'canny', metric: 'f1', higherIsBetter: true });
    expect(result.consistency!.ranked!.map((r) => r.seed).sort()).toEqual([10, 11]);
    expect(result.metrics).toEqual({ consistency: result.consistency!.value });
    expect(result.image).toMatchObject({ width: 40, height: 24 });
  });

  it('runs invertEdit with its stages, then reedit from its inversionId without inverting again', async () => {
    const before = engine.inversions;
    const { jobId } = await ok<{ jobId: string }>('invertEdit', { method: 'pti', prompt: 'tea', image: { base64: await photo() }, steps: 2, eta: 0 });
    const stages: string[] = [];
    const result = (
      await peer.nextEvent((e) => {
        if (e.event === 'progress' && (e.payload as JobProgress).jobId === jobId) stages.push((e.payload as JobProgress).stage!);
        return e.event === 'result' && (e.payload as JobResult).jobId === jobId;
      })
    ).payload as JobResult;
    expect(stages).toEqual(['invert', 'invert', 'tune', 'tune', 'edit', 'edit']);
    expect(result.parameters).toMatchObject({ extra: { eta: 0 } });
    const again = await ok<{ jobId: string }>('reedit', { inversionId: result.inversionId, prompt: 'milk', eta: 0.4 });
    const second = (await peer.nextEvent((e) => e.event === 'result' && (e.payload as JobResult).jobId === again.jobId)).payload as JobResult;
    expect(second.inversionId).toBe(result.inversionId);
    expect(second.parameters).toMatchObject({ prompt: 'milk', extra: { eta: 0.4 } });
    expect(engine.inversions).toBe(before + 1);
    expect(await peer.request('reedit', { inversionId: 'nope', prompt: 'x' })).toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENT' } });
  });
});
