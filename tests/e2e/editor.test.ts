import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type WebServer } from '../../main/web/WebServer';
import { FakeEngine } from '../web/fakeEngine';

const CHROMIUM = '/usr/bin/chromium';
const root = process.cwd();
const PHOTO = path.resolve(root, '../shared/photos/chelsea.png'); // 451×300
const ARTIFACTS = path.resolve(root, 'test-artifacts');
const hasChromium = existsSync(CHROMIUM);

if (!hasChromium) {
  console.warn(`Skipping the browser e2e test: ${CHROMIUM} is absent (apt-get install -y chromium).`);
}

describe.skipIf(!hasChromium)('editor in the browser (web mode, fake engine)', () => {
  let outDir: string;
  let server: WebServer;
  let engine: FakeEngine;
  let browser: Browser;

  beforeAll(async () => {
    // Build the renderer exactly as the app ships it, into a private folder so that a stale or
    // concurrent out/ cannot affect the test.
    outDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-e2e-'));
    const build = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', outDir, '--logLevel', 'error'],
      { cwd: root, encoding: 'utf8' },
    );
    if (build.status !== 0) throw new Error(`electron-vite build failed:\n${build.stdout}\n${build.stderr}`);
    engine = new FakeEngine(120);
    server = await startWebServer({ engine, rendererDir: path.join(outDir, 'renderer'), port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-proxy-server',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('opens a photo, paints a mask, generates and shows the result', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Fail with the locator's name long before the test's own time-out.
    page.setDefaultTimeout(8_000);
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(server.url);
    await expect.poll(() => page.getByText('random-weight test model').isVisible()).toBe(true);

    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByRole('button', { name: 'Open image' }).click(),
    ]);
    await chooser.setFiles(PHOTO);
    const photo = page.getByAltText('Photo: chelsea.png');
    await photo.waitFor();

    // One horizontal stroke across the middle of the displayed photo, from 30% to 70% of its width.
    const canvas = page.getByLabel('Mask');
    const box = (await canvas.boundingBox())!;
    // The mask overlay must lie exactly over the photo, or strokes would land beside what they cover.
    const photoBox = (await photo.boundingBox())!;
    for (const k of ['x', 'y', 'width', 'height'] as const) expect(box[k]).toBeCloseTo(photoBox[k], 0);
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5, { steps: 12 });
    await page.mouse.up();

    await page.getByLabel('Prompt', { exact: true }).fill('a photo of a cat');
    await expect.poll(() => page.getByTestId('token-count').textContent()).toBe('5/75 tokens');
    await page.getByLabel('Steps').fill('6');
    await page.getByLabel('Seed').fill('42');

    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByAltText(/^Preview at step/).waitFor({ timeout: 10_000 });
    await page.getByAltText(/^Result/).waitFor({ timeout: 10_000 });
    expect(await page.getByAltText(/^Result/).getAttribute('alt')).toBe('Result (seed 42, 6 steps)');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-editor.png'), fullPage: true });

    // What reached the engine: an inpaint job whose mask is in image coordinates (451×300),
    // white along the stroke and black away from it.
    const request = engine.generateRequests.at(-1)!;
    expect(request).toMatchObject({ kind: 'inpaint', prompt: 'a photo of a cat', steps: 6, seed: 42, scheduler: 'ddim' });
    expect(request.image?.name).toBe('chelsea.png');
    const { data, info } = await sharp(Buffer.from(request.mask!.base64, 'base64'))
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([451, 300]);
    const at = (x: number, y: number) => data[y * info.width + x];
    expect([at(Math.round(451 * 0.3), 150), at(225, 150), at(Math.round(451 * 0.7) - 1, 150)]).toEqual([255, 255, 255]);
    expect([at(5, 5), at(225, 20), at(225, 280), at(445, 295)]).toEqual([0, 0, 0, 0]);

    expect(problems).toEqual([]);
    await page.close();
  }, 30_000);

  it('names every control, opens a dropped photo, shows engine errors and cancels a job', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Fail with the locator's name long before the test's own time-out.
    page.setDefaultTimeout(8_000);
    await page.goto(server.url);

    // Dropping a file anywhere on the window opens it.
    const coffee = (await sharp(path.resolve(root, '../shared/photos/coffee.png')).png().toBuffer()).toString('base64');
    const transfer = await page.evaluateHandle((b64) => {
      const dt = new DataTransfer();
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], 'coffee.png', { type: 'image/png' }));
      return dt;
    }, coffee);
    await page.dispatchEvent('body', 'drop', { dataTransfer: transfer });
    await page.getByAltText('Photo: coffee.png').waitFor();
    expect(await page.getByText('coffee.png · 600×400').count()).toBe(1);

    for (const name of ['Prompt', 'Negative prompt', 'Steps', 'Guidance', 'Strength', 'Seed', 'Brush size']) {
      expect(await page.getByLabel(name, { exact: true }).count(), name).toBe(1);
    }
    for (const name of ['Open image', 'Generate', 'Cancel']) {
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(1);
    }

    await page.getByLabel('Prompt', { exact: true }).fill('FAIL on purpose');
    await page.getByRole('button', { name: 'Generate' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('The fake engine refuses prompts containing FAIL.');
    expect(await alert.textContent()).toContain('BAD_ARGUMENT');

    // The Scheduler select (its listbox shares the label, so address the input by role).
    await page.getByRole('combobox', { name: 'Scheduler' }).click();
    await page.getByRole('option', { name: 'Euler ancestral' }).click();

    await page.getByLabel('Prompt', { exact: true }).fill('a slow job');
    await page.getByLabel('Steps').fill('100');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByAltText(/^Preview at step/).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('Generation cancelled.').waitFor();
    expect(await page.getByAltText(/^Result/).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Generate' }).isEnabled()).toBe(true);
    // No mask was painted on this photo, so the job was img2img.
    expect(engine.generateRequests.at(-1)).toMatchObject({ kind: 'img2img', prompt: 'a slow job', strength: 0.75, scheduler: 'euler-a' });
    await page.close();
  }, 30_000);
});
