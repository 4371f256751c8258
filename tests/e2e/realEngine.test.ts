import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EngineService } from '../../main/engine/service/EngineService';
import { startWebServer, type WebServer } from '../../main/web/WebServer';
import { generateControlNet } from '../../models/controlnet/generateControlNet';
import { testModelDir } from '../fixtures/models';
import { buildRenderer, closeLeftPages, CHROMIUM, hasChromium, launchChromium, openPage, screenshot, strokeAcross } from './browser';

const CHELSEA = path.resolve(process.cwd(), 'tests/fixtures/photos/chelsea.png'); // 451×300

if (!hasChromium) console.warn(`Skipping the real-engine browser test: ${CHROMIUM} is absent.`);

/**
 * The one browser test over the real engine (the tiny random-weight test model, two steps):
 * proves that the renderer, the wire, EngineService, the pipelines and project storage meet.
 */
describe.skipIf(!hasChromium)('editor in the browser (web mode, real engine, tiny model)', () => {
  let outDir: string;
  let userDataDir: string;
  let engine: EngineService;
  let server: WebServer;
  let browser: Browser;

  beforeAll(async () => {
    // expect.poll waits as long as a locator does (openPage): other work may load this machine.
    vi.setConfig({ expect: { poll: { timeout: 20_000, interval: 100 } } });
    outDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-e2e-real-'));
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-e2e-real-data-'));
    // An installed ControlNet for Structure mode: random weights of the tiny model's preset.
    generateControlNet(path.join(userDataDir, 'controlnets', 'tiny-canny'), { preset: 'tiny', seed: 4321 });
    const rendererDir = buildRenderer(outDir);
    engine = await EngineService.create({ modelDir: await testModelDir('tiny'), provider: 'cpu', userDataDir });
    server = await startWebServer({ engine, rendererDir, port: 0 });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await engine?.dispose();
    for (const dir of [outDir, userDataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    vi.resetConfig();
  });

  afterEach(async ({ task }) => closeLeftPages(browser, task.name, task.result?.state === 'fail'));

  it('inpaints chelsea in two steps and keeps the result in the project across a reload', async () => {
    const { page, problems } = await openPage(browser, server.url, 20_000);
    await page.getByText('random-weight test model').waitFor();
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Open image' }).click()]);
    await chooser.setFiles(CHELSEA);
    await page.getByAltText('Photo: chelsea.png').waitFor();
    await strokeAcross(page, 'img[alt="Photo: chelsea.png"]', [0.35, 0.4], [0.65, 0.6]);

    await page.getByLabel('Prompt', { exact: true }).fill('a photo of a cat');
    // The real CLIP tokenizer: "a photo of a cat" is five tokens.
    await expect.poll(() => page.getByTestId('token-count').textContent()).toBe('5/75 tokens');
    await page.getByLabel('Steps', { exact: true }).fill('2');
    await page.getByLabel('Seed', { exact: true }).fill('7');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();

    const result = page.getByAltText(/^Result/).first();
    await result.waitFor({ timeout: 60_000 });
    expect(await result.getAttribute('alt')).toBe('Result 1 (seed 7, 2 steps)');
    await expect.poll(() => page.getByTestId('job').first().getAttribute('data-status')).toBe('done');
    await screenshot(page, 'e2e-real-engine.png');

    const projects = readdirSync(path.join(userDataDir, 'projects')).filter((n) => n.startsWith('p-'));
    expect(projects).toHaveLength(1);
    const saved = readdirSync(path.join(userDataDir, 'projects', projects[0], 'results'));
    expect(saved.filter((f) => f.endsWith('.png'))).toHaveLength(1);

    await page.reload();
    await page.getByAltText('Photo: chelsea.png').waitFor();
    await page.getByAltText('Result 1 (seed 7, 2 steps)').waitFor();
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it('generates from the photo\'s canny edges through a ControlNet and shows the F1 the engine measured', async () => {
    const { page, problems } = await openPage(browser, server.url, 20_000);
    await page.getByAltText('Photo: chelsea.png').waitFor();
    await page.getByText('Structure', { exact: true }).click();
    // The engine's canny map of chelsea at the generation size (451×300 fitted to 448×304).
    const preview = page.getByAltText('Condition preview');
    await preview.waitFor();
    expect(await preview.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([448, 304]);
    expect(await page.getByRole('combobox', { name: 'ControlNet' }).inputValue()).toBe('tiny-canny (random weights)');
    await page.getByLabel('Prompt', { exact: true }).fill('a marble statue of a cat');
    await page.getByLabel('Steps', { exact: true }).fill('2');
    await page.getByLabel('Seed', { exact: true }).fill('7');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();

    const score = page.getByTestId('consistency').first();
    await score.waitFor({ timeout: 90_000 });
    const label = (await score.textContent())!;
    expect(label).toMatch(/^Canny F1 [01]\.\d\d$/);
    // The label is the value saved with the result in the project.
    const project = readdirSync(path.join(userDataDir, 'projects')).filter((n) => n.startsWith('p-'))[0];
    const records = readdirSync(path.join(userDataDir, 'projects', project, 'results')).filter((f) => f.endsWith('.json'));
    const saved = records.map((f) => JSON.parse(readFileSync(path.join(userDataDir, 'projects', project, 'results', f), 'utf8')));
    const controlled = saved.find((r) => r.parameters?.extra?.consistency);
    expect(controlled.parameters.extra.consistency).toMatchObject({ type: 'canny', metric: 'f1', higherIsBetter: true });
    expect(label).toBe(`Canny F1 ${controlled.parameters.extra.consistency.value.toFixed(2)}`);
    expect(controlled.parameters.extra.control[0]).toMatchObject({ type: 'canny', scale: 1, start: 0, end: 1 });
    await page.getByLabel('Prompt', { exact: true }).scrollIntoViewIfNeeded();
    await screenshot(page, 'e2e-real-structure.png');
    expect(problems).toEqual([]);
    await page.close();
  }, 150_000);
});
