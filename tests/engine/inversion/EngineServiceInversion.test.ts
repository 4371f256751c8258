import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEventName, EngineEvents, JobProgress, JobResult } from '../../../main/contract/contract';
import { EngineService } from '../../../main/engine/service/EngineService';
import { testModelDir } from '../../fixtures/models';

let engine: EngineService;
let userDataDir: string;
const events: { event: EngineEventName; payload: EngineEvents[EngineEventName] }[] = [];

beforeAll(async () => {
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-engine-inversion-'));
  engine = await EngineService.create({ modelDir: await testModelDir('tiny'), provider: 'cpu', userDataDir });
  engine.on((event, payload) => events.push({ event, payload: payload as EngineEvents[EngineEventName] }));
});
afterAll(async () => {
  await engine?.dispose();
  fs.rmSync(userDataDir, { recursive: true, force: true });
});

function eventsOf(jobId: string): Promise<typeof events> {
  return new Promise((resolve) => {
    const poll = () => {
      const list = events.filter((e) => (e.payload as { jobId?: string }).jobId === jobId);
      if (list.some((e) => e.event === 'result' || e.event === 'failed')) resolve(list);
      else setTimeout(poll, 10);
    };
    poll();
  });
}

async function photoBase64(): Promise<string> {
  return (await sharp(path.resolve('tests/fixtures/photos/coffee.png')).resize(64, 48).png().toBuffer()).toString('base64');
}

describe('EngineService: edits by inversion', () => {
  it('invertEdit reports stages, metrics and an inversionId; reedit runs only the edit from it', async () => {
    const { jobId } = await engine.handle('invertEdit', { method: 'ddim', prompt: 'a cup of tea', image: { base64: await photoBase64() }, steps: 3, sourcePrompt: 'coffee' });
    const list = await eventsOf(jobId);
    const failed = list.find((e) => e.event === 'failed');
    expect(failed?.payload).toBeUndefined();
    const stages = list.filter((e) => e.event === 'progress').map((e) => (e.payload as JobProgress).stage);
    expect(stages).toEqual(['invert', 'invert', 'invert', 'edit', 'edit', 'edit']);
    const result = list.find((e) => e.event === 'result')!.payload as JobResult;
    expect(result.image).toMatchObject({ width: 64, height: 48 });
    expect(result.inversionId).toMatch(/^[0-9a-f]{24}$/);
    expect(result.metrics).toMatchObject({ inversion_cached: 0, inversion_forward_calls: 3, edit_forward_calls: 3, unet_vjp_calls: 0 });
    expect(result.parameters).toMatchObject({ method: 'ddim-inversion', prompt: 'a cup of tea' });
    expect(fs.existsSync(path.join(userDataDir, 'inversions', result.inversionId!, 'inversion.json'))).toBe(true);

    const again = await engine.handle('reedit', { inversionId: result.inversionId!, prompt: 'a glass of milk', eta: 0.5 });
    const second = (await eventsOf(again.jobId)).find((e) => e.event === 'result')!.payload as JobResult;
    expect(second.metrics).toMatchObject({ inversion_cached: 1, unet_forward_calls: 3, unet_vjp_calls: 0 });
    expect(second.parameters).toMatchObject({ prompt: 'a glass of milk', extra: expect.objectContaining({ eta: 0.5, inversionId: result.inversionId }) });
  });

  it('rejects bad inversion requests at once', async () => {
    await expect(engine.handle('invertEdit', { prompt: 'x' } as never)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('image') });
    await expect(engine.handle('invertEdit', { prompt: 'x', image: { base64: '' }, method: 'sdedit' as never })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(engine.handle('invertEdit', { prompt: 'x', image: { base64: '' }, eta: 3 })).rejects.toMatchObject({ message: expect.stringContaining('eta') });
    await expect(engine.handle('reedit', { inversionId: 'a'.repeat(24), prompt: 'x' })).rejects.toMatchObject({ message: expect.stringContaining('No cached inversion') });
    await expect(engine.handle('reedit', { inversionId: '../etc', prompt: 'x' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});
