import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PentimentoError } from '../../main/engine/errors';
import { encodePng } from '../../main/engine/image/encodePng';
import type { GenerationParameters } from '../../main/engine/image/GenerationParameters';
import { startWebServer, type WebServer } from '../../main/web/WebServer';
import { FakeEngine, fakeConsistency } from '../web/fakeEngine';
import { buildRenderer, closeLeftPages, hasChromium, launchChromium, maskAlphaAt, openPage, screenshot, strokeAcross, CHROMIUM } from './browser';
import { animationsSettled, lowContrastTexts, type LowContrast } from './contrast';
import { namelessControls } from './namelessControls';

const root = process.cwd();
const CHELSEA = path.resolve(root, 'tests/fixtures/photos/chelsea.png'); // 451×300
const COFFEE = path.resolve(root, 'tests/fixtures/photos/coffee.png'); // 600×400

if (!hasChromium) console.warn(`Skipping the browser e2e tests: ${CHROMIUM} is absent (apt-get install -y chromium).`);

describe.skipIf(!hasChromium)('editor in the browser (web mode, fake engine)', () => {
  let outDir: string;
  let userDataDir: string;
  let server: WebServer;
  let engine: FakeEngine;
  let browser: Browser;

  beforeAll(async () => {
    // expect.poll waits as long as a locator does (openPage): other work may load this machine.
    vi.setConfig({ expect: { poll: { timeout: 8_000, interval: 50 } } });
    outDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-e2e-'));
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-e2e-data-'));
    const rendererDir = buildRenderer(outDir);
    engine = new FakeEngine(60, userDataDir);
    server = await startWebServer({ engine, rendererDir, port: 0 });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    for (const dir of [outDir, userDataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    vi.resetConfig();
  });

  afterEach(async ({ task }) => {
    engine?.resume(); // a test that failed while holding the engine must not hold the next one
    await closeLeftPages(browser, task.name, task.result?.state === 'fail');
  });

  const projectsDir = () => path.join(userDataDir, 'projects');
  const projectIds = () => (existsSync(projectsDir()) ? readdirSync(projectsDir()).filter((n) => n.startsWith('p-')) : []);
  const onlyProject = () => {
    const ids = projectIds();
    expect(ids).toHaveLength(1);
    return path.join(projectsDir(), ids[0]);
  };
  /**
   * Unnamed controls and low-contrast texts of the page at rest: once transitions have ended, and
   * looked at again (for up to 3 s) while any are found, since an element on its way out (fading
   * to opacity 0, then unmounted) is no text anyone reads. What persists is what is reported.
   */
  const accessibilityProblems = async (page: Page): Promise<{ nameless: string[]; low: LowContrast[] }> => {
    const deadline = Date.now() + 3_000;
    for (;;) {
      await animationsSettled(page);
      const found = { nameless: await namelessControls(page), low: await lowContrastTexts(page) };
      if ((found.nameless.length === 0 && found.low.length === 0) || Date.now() > deadline) return found;
      await page.waitForTimeout(100); // the polling interval
    }
  };

  /** The photo's object URL: every project shown gets a new one. */
  const shownPhoto = (page: Page) => page.evaluate(() => document.querySelector('img[alt^="Photo: "]')?.getAttribute('src') ?? null);
  /**
   * Opens `file` with the Open image dialog and returns once its new project is shown. A page
   * first reopens the newest project, which may hold a photo of the same name, so that reopen
   * is awaited first and then the photo must change: a test never acts on the older project.
   */
  const openWithChooser = async (page: Page, file: string) => {
    if (projectIds().length > 0) await page.locator('img[alt^="Photo: "]').waitFor();
    const before = await shownPhoto(page);
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Open image' }).click()]);
    await chooser.setFiles(file);
    await expect.poll(async () => ((await shownPhoto(page)) ?? before) !== before).toBe(true);
  };

  it('opens a photo, paints a mask, generates, undoes, and finds the project intact after a reload', async () => {
    const { page, problems } = await openPage(browser, server.url);
    await page.getByText('random-weight test model').waitFor();
    await page.getByText('Open a photo to start').waitFor();

    await openWithChooser(page, CHELSEA);
    const photo = page.getByAltText('Photo: chelsea.png');
    await photo.waitFor();
    // The mask layer lies exactly over the photo, or strokes would land beside what they cover.
    const maskBox = (await page.getByLabel('Mask', { exact: true }).boundingBox())!;
    const photoBox = (await photo.boundingBox())!;
    for (const k of ['x', 'y', 'width', 'height'] as const) expect(maskBox[k]).toBeCloseTo(photoBox[k], 0);

    // Zoom in twice and back to fit: the mask stays registered to the photo (checked below).
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await expect.poll(() => page.getByTestId('zoom-level').textContent()).toBe('125%');
    await page.getByRole('button', { name: 'Fit' }).click();
    await expect.poll(() => page.getByTestId('zoom-level').textContent()).toBe('100%');

    // One horizontal stroke across the middle of the photo, from 30 % to 70 % of its width.
    await strokeAcross(page, 'img[alt="Photo: chelsea.png"]', [0.3, 0.5], [0.7, 0.5]);
    await expect.poll(() => maskAlphaAt(page, 225, 150)).toBeGreaterThan(0);
    expect(await maskAlphaAt(page, 225, 20)).toBe(0);

    await page.getByLabel('Prompt', { exact: true }).fill('a photo of a cat');
    await expect.poll(() => page.getByTestId('token-count').textContent()).toBe('5/75 tokens');
    await page.getByLabel('Steps', { exact: true }).fill('6');
    await page.getByLabel('Seed', { exact: true }).fill('42');
    await expect.poll(() => page.getByTestId('generate-action').textContent()).toContain('masked area');

    // The engine holds the job at its first step, so the progress is seen however slow this machine is.
    engine.pause();
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByAltText('Preview at step 1').waitFor();
    await page.getByText('Step 1 of 6', { exact: true }).waitFor();
    expect(await page.getByText(/^Step \d of 6$/).count()).toBe(1);
    await screenshot(page, 'e2e-progress.png');
    engine.resume();
    const result = page.getByAltText(/^Result/).first();
    await result.waitFor();
    expect(await result.getAttribute('alt')).toBe('Result 1 (seed 42, 6 steps)');
    await expect.poll(() => page.getByTestId('job').first().getAttribute('data-status')).toBe('done');
    // A new result opens the before/after view.
    await page.getByAltText('After: result 1').waitFor();
    await screenshot(page, 'e2e-editor-light.png');
    // Dragging across the picture moves the divider (it panned the picture instead).
    const divider = page.getByRole('slider', { name: 'Compare position' });
    expect(await divider.getAttribute('aria-valuenow')).toBe('50');
    const before = (await photo.boundingBox())!;
    await page.mouse.move(before.x + before.width * 0.5, before.y + before.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(before.x + before.width * 0.65, before.y + before.height * 0.5, { steps: 4 });
    await page.mouse.move(before.x + before.width * 0.8, before.y + before.height * 0.5, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => divider.getAttribute('aria-valuenow')).toBe('80');
    expect(await photo.boundingBox()).toEqual(before);
    // A notice floats below the before/after switch, never over it.
    await page.getByRole('button', { name: 'Reuse settings of result 1' }).click();
    await page.getByText('Settings of result 1 are back in the controls', { exact: false }).waitFor();
    const viewSwitch = (await page.getByRole('radiogroup', { name: 'View' }).boundingBox())!;
    expect((await page.getByTestId('notifications').boundingBox())!.y).toBeGreaterThanOrEqual(viewSwitch.y + viewSwitch.height);
    await page.getByRole('button', { name: 'Dismiss notice' }).click();

    // What reached the engine: an inpaint job in this project, its mask in image coordinates
    // (451×300), white along the stroke and black away from it.
    const request = engine.generateRequests.at(-1)!;
    expect(request).toMatchObject({ kind: 'inpaint', prompt: 'a photo of a cat', steps: 6, seed: 42 });
    expect(request.projectId).toBe(path.basename(onlyProject()));
    const sent = await sharp(Buffer.from(request.mask!.base64, 'base64')).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect([sent.info.width, sent.info.height]).toEqual([451, 300]);
    const at = (x: number, y: number) => sent.data[y * 451 + x];
    expect([at(Math.round(451 * 0.3) + 2, 150), at(225, 150), at(Math.round(451 * 0.7) - 2, 150)]).toEqual([255, 255, 255]);
    expect([at(5, 5), at(225, 20), at(225, 280), at(445, 295)]).toEqual([0, 0, 0, 0]);

    // Undo: first the result (hidden), then the stroke (mask empty); redo brings both back.
    await page.getByRole('button', { name: 'Undo', exact: true }).click();
    await expect.poll(() => page.getByAltText(/^Result/).count()).toBe(0);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur()); // out of text fields
    await page.keyboard.press('Control+z');
    await expect.poll(() => maskAlphaAt(page, 225, 150)).toBe(0);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => maskAlphaAt(page, 225, 150)).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Redo', exact: true }).click();
    await page.getByAltText(/^Result 1/).waitFor();

    // Saved as we went: mask, result with its parameters, history.
    const dir = onlyProject();
    await expect.poll(() => page.getByTestId('save-state').textContent()).toBe('Saved');
    await expect
      .poll(async () => {
        if (!existsSync(path.join(dir, 'mask.png'))) return -1;
        const m = await sharp(path.join(dir, 'mask.png')).greyscale().raw().toBuffer();
        return m[150 * 451 + 225];
      })
      .toBe(255);
    const resultFiles = readdirSync(path.join(dir, 'results')).sort();
    expect(resultFiles.filter((f) => f.endsWith('.png'))).toHaveLength(1);
    const record = JSON.parse(readFileSync(path.join(dir, 'results', resultFiles.find((f) => f.endsWith('.json'))!), 'utf8'));
    expect(record.parameters).toMatchObject({ prompt: 'a photo of a cat', seed: 42, steps: 6 });
    const history = JSON.parse(readFileSync(path.join(dir, 'history.json'), 'utf8'));
    expect(history).toMatchObject({ version: 1, hiddenResultIds: [] });

    // Reload: the last project reopens with its photo, mask and result.
    await page.reload();
    await page.getByAltText('Photo: chelsea.png').waitFor();
    await page.getByAltText(/^Result 1 \(seed 42, 6 steps\)/).waitFor();
    await expect.poll(() => maskAlphaAt(page, 225, 150)).toBeGreaterThan(0);
    expect(await maskAlphaAt(page, 225, 20)).toBe(0);
    // Settings were remembered.
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toBe('a photo of a cat');
    expect(await page.getByLabel('Steps', { exact: true }).inputValue()).toBe('6');

    // Dark theme.
    await page.getByRole('button', { name: 'Dark theme' }).click();
    await expect.poll(() => page.locator('html').getAttribute('data-mantine-color-scheme')).toBe('dark');
    const photoBox2 = (await page.getByAltText('Photo: chelsea.png').boundingBox())!;
    await page.mouse.move(photoBox2.x + photoBox2.width * 0.25, photoBox2.y + photoBox2.height * 0.3); // shows the brush outline
    await screenshot(page, 'e2e-editor-dark.png');
    await page.getByRole('button', { name: 'Dark theme' }).click();

    expect(problems).toEqual([]);
    await page.close();
  }, 45_000);

  it('queues jobs, shows failures with the engine message, cancels one job, and reuses a result\'s settings', async () => {
    const { page, problems } = await openPage(browser, server.url);
    await page.getByAltText('Photo: chelsea.png').waitFor();

    for (const name of ['Prompt', 'Negative prompt', 'Steps', 'Guidance', 'Seed']) {
      expect(await page.getByLabel(name, { exact: true }).count(), name).toBe(1);
    }
    for (const name of ['Brush size', 'Hardness', 'Strength']) {
      expect(await page.getByRole('slider', { name, exact: true }).count(), name).toBe(1);
    }
    for (const name of ['Open image', 'Generate', 'Cancel', 'Undo', 'Redo', 'Invert mask', 'Clear mask', 'Projects', 'Dark theme']) {
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(1);
    }

    // A request the engine refuses at once: its message is shown on the job.
    const prompt = page.getByLabel('Prompt', { exact: true });
    await prompt.fill('FAIL on purpose');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByText('The fake engine refuses prompts containing FAIL.').waitFor();
    expect(await page.getByRole('alert').filter({ hasText: 'BAD_ARGUMENT' }).count()).toBe(1);

    // Three jobs at once: a slow one, one that fails while running, a quick one. The engine holds
    // the slow one at its first step until its Cancel is in, so it cannot end before the click.
    engine.pause();
    await page.getByLabel('Steps', { exact: true }).fill('40');
    await prompt.fill('a slow job');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByLabel('Steps', { exact: true }).fill('3');
    await prompt.fill('BREAK the engine');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await prompt.fill('a quick job');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await prompt.fill('a job cancelled while waiting');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const jobs = page.getByTestId('job');
    // Newest first: waiting (5), quick (4), BREAK (3), slow (2); one runs, the others wait.
    await expect.poll(() => jobs.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).toEqual(['queued', 'queued', 'queued', 'running', 'failed']);
    await screenshot(page, 'e2e-queue.png');
    // A waiting job's Cancel takes effect at once, though the slow job holds the engine.
    await page.getByRole('button', { name: 'Cancel job 5', exact: true }).click();
    await expect.poll(() => jobs.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).toEqual(['cancelled', 'queued', 'queued', 'running', 'failed']);
    const cancelsBefore = engine.cancelled.size;
    // The running job shows as cancelled from the click, before the engine has answered.
    const releaseCancel = engine.holdRequests('cancel');
    await page.getByRole('button', { name: 'Cancel job 2', exact: true }).click();
    await expect.poll(() => jobs.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).toEqual(['cancelled', 'queued', 'queued', 'cancelled', 'failed']);
    expect(engine.cancelled.size).toBe(cancelsBefore);
    releaseCancel();
    await expect.poll(() => engine.cancelled.size).toBe(cancelsBefore + 1);
    // A job still being sent can be cancelled: shown cancelled at once, cancelled once the engine has its id.
    const releaseGenerate = engine.holdRequests('generate');
    await prompt.fill('a job cancelled while sending');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect.poll(() => jobs.first().getAttribute('data-status')).toBe('submitting');
    await page.getByRole('button', { name: 'Cancel job 6', exact: true }).click();
    await expect.poll(() => jobs.first().getAttribute('data-status')).toBe('cancelled');
    releaseGenerate();
    await expect.poll(() => engine.cancelled.size).toBe(cancelsBefore + 2);
    engine.resume();
    await expect.poll(() => jobs.evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))), { timeout: 10_000 }).toEqual([
      'cancelled',
      'cancelled',
      'done',
      'failed',
      'cancelled',
      'failed',
    ]);
    await page.getByText('The fake engine ran out of memory on purpose (BREAK in the prompt).').waitFor();
    expect(await page.getByAltText(/^Result/).first().getAttribute('alt')).toMatch(/^Result 2 \(seed \d+, 3 steps\)$/);

    // Export downloads the result's PNG byte for byte (its parameters ride in its text chunks).
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export result 1' }).click()]);
    expect(download.suggestedFilename()).toBe('chelsea-result-1.png');
    const exported = readFileSync(await download.path());
    const dir = onlyProject();
    const firstPng = readdirSync(path.join(dir, 'results')).filter((f) => f.endsWith('.png')).sort()[0];
    expect(exported.equals(readFileSync(path.join(dir, 'results', firstPng)))).toBe(true);

    // Copy puts the PNG on the clipboard.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
    await page.getByRole('button', { name: 'Copy result 1' }).click();
    await page.getByText('Copied result 1 to the clipboard.').waitFor();
    expect(await page.evaluate(async () => (await navigator.clipboard.read())[0].types)).toContain('image/png');

    // Reuse the first result's settings: prompt, steps and its seed (locked).
    await page.getByRole('button', { name: 'Reuse settings of result 1' }).click();
    await expect.poll(() => prompt.inputValue()).toBe('a photo of a cat');
    await expect.poll(() => page.getByLabel('Steps', { exact: true }).inputValue()).toBe('6');
    await expect.poll(() => page.getByLabel('Seed', { exact: true }).inputValue()).toBe('42');

    expect(problems).toEqual([]);
    await page.close();
  }, 45_000);

  it('is keyboard navigable, opens dropped images as projects, switches projects and modes', async () => {
    const { page, problems } = await openPage(browser, server.url);
    await page.getByAltText('Photo: chelsea.png').waitFor();

    // Tab from the top of the page reaches Prompt and then Generate.
    const reached: string[] = [];
    for (let i = 0; i < 60 && !(reached.includes('Prompt') && reached.includes('Generate')); i++) {
      await page.keyboard.press('Tab');
      reached.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          if (!el) return '';
          const labelled = el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : undefined;
          return (el.getAttribute('aria-label') ?? labelled ?? el.textContent ?? '').trim();
        }),
      );
    }
    expect(reached).toContain('Prompt');
    expect(reached.indexOf('Generate')).toBeGreaterThan(reached.indexOf('Prompt'));
    // Enter on the focused Generate button, and Ctrl+Enter in the prompt, each start a job.
    const before = engine.generateRequests.length;
    await page.keyboard.press('Enter');
    await page.getByLabel('Prompt', { exact: true }).focus();
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => engine.generateRequests.length).toBe(before + 2);

    // Dropping an image anywhere opens it as a new project.
    const coffee = readFileSync(COFFEE).toString('base64');
    const transfer = await page.evaluateHandle((b64) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'coffee.png', { type: 'image/png' }));
      return dt;
    }, coffee);
    await page.dispatchEvent('body', 'drop', { dataTransfer: transfer });
    await page.getByAltText('Photo: coffee.png').waitFor();
    expect(await page.getByTestId('status-line').textContent()).toContain('coffee.png · 600×400');
    expect(await page.getByAltText(/^Result/).count()).toBe(0);

    // Pasting an image opens it too.
    await page.evaluate((b64) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'pasted.png', { type: 'image/png' }));
      window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt }));
    }, coffee);
    await page.getByAltText('Photo: pasted.png').waitFor();

    // The project list has all three; switching back restores chelsea with its results.
    await page.getByRole('button', { name: 'Projects' }).click();
    await expect.poll(() => page.getByRole('menuitem').count()).toBe(3);
    await screenshot(page, 'e2e-projects.png');
    await page.getByRole('menuitem', { name: /chelsea\.png/ }).click();
    await page.getByAltText('Photo: chelsea.png').waitFor();
    await page.getByAltText(/^Result 1 /).waitFor();

    // Generate mode shows only its controls; Structure shows the photo's condition; Personalize says it is not there yet.
    await page.getByText('Generate', { exact: true }).first().click(); // the mode control's label
    await page.getByRole('combobox', { name: 'Size' }).waitFor();
    await page.getByAltText(/^Shown: result/).waitFor();
    await screenshot(page, 'e2e-generate.png');
    expect(await page.getByRole('slider', { name: 'Strength' }).count()).toBe(0);
    await page.getByText('Structure', { exact: true }).click();
    await page.getByAltText('Condition preview').waitFor();
    expect(await page.getByRole('slider', { name: 'Strength' }).count()).toBe(0);
    await page.getByText('Personalize', { exact: true }).click();
    await page.getByText('Personalize is not available yet').waitFor();
    await page.getByText('Edit photo', { exact: true }).click();
    await page.getByRole('slider', { name: 'Strength' }).waitFor();

    expect(problems).toEqual([]);
    await page.close();
  }, 45_000);
  it('Structure mode: picks canny, previews the condition, sets the scale, generates best of 3 and shows the F1 on the result', async () => {
    const { page, problems } = await openPage(browser, server.url);
    await openWithChooser(page, CHELSEA);
    await page.getByAltText('Photo: chelsea.png').waitFor();
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.getByText('Structure', { exact: true }).click();
    // Its controls are long, but Generate stays in view at the panel's foot, unscrolled.
    await page.getByAltText('Condition preview').waitFor();
    const generateBox = (await page.getByRole('button', { name: 'Generate', exact: true }).boundingBox())!;
    expect(generateBox.y + generateBox.height).toBeLessThanOrEqual(900);

    // Depth first, then canny: the preview follows the type.
    const preview = page.getByAltText('Condition preview');
    await page.getByRole('combobox', { name: 'Condition type' }).click();
    await page.getByRole('option', { name: 'Depth' }).click();
    await page.getByText('Made by a random-weight test annotator').waitFor();
    await page.getByRole('combobox', { name: 'Condition type' }).click();
    await page.getByRole('option', { name: 'Canny edges' }).click();
    await expect.poll(() => engine.extractConditionRequests.at(-1)?.type).toBe('canny');
    await preview.waitFor();
    await page.getByText(/^451×300: what the ControlNet sees\.$/).waitFor();
    // The preview is the engine's map of this photo, at the photo's size.
    expect(await preview.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([451, 300]);
    // The ControlNet trained on canny is chosen for it.
    expect(await page.getByRole('combobox', { name: 'ControlNet' }).inputValue()).toBe('control_v11p_sd15_canny');

    // Conditioning scale 1 → 0.5 by keyboard (step 0.05), guidance from 0 % to 10 %.
    await page.getByRole('slider', { name: 'Conditioning scale' }).focus();
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowLeft');
    await page.getByText('0.50 · 0 = off').waitFor();
    await page.getByRole('slider', { name: 'Guidance start' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.getByLabel('Best of', { exact: true }).fill('3');
    await page.getByLabel('Prompt', { exact: true }).fill('a cat made of marble');
    await page.getByLabel('Steps', { exact: true }).fill('3');
    await page.getByLabel('Seed', { exact: true }).fill('42');
    await expect.poll(() => page.getByTestId('generate-action').textContent()).toContain('most consistent of 3 seeds');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();

    const score = page.getByTestId('consistency').first();
    await score.waitFor();
    const request = engine.generateRequests.at(-1)!;
    expect(request).toMatchObject({ kind: 'txt2img', prompt: 'a cat made of marble', steps: 3, seed: 42, bestOf: 3 });
    expect(request.width).toBeUndefined(); // the size comes from the photo
    expect(request.control).toHaveLength(1);
    expect(request.control![0]).toMatchObject({ controlnet: 'control_v11p_sd15_canny', type: 'canny', scale: 0.5, start: 0.1, end: 1 });
    expect((await sharp(Buffer.from(request.control![0].image!.base64, 'base64')).metadata()).width).toBe(451);
    // The fake engine's scores for seeds 42…44, best first: shown on the result, with the ranking.
    const ranked = [42, 43, 44].map((seed) => ({ seed, value: fakeConsistency(seed, 0.5) })).sort((a, b) => b.value - a.value || a.seed - b.seed);
    expect(await score.textContent()).toBe(`Canny F1 ${ranked[0].value.toFixed(2)}`);
    expect(await page.getByTestId('ranking').first().textContent()).toBe(`Best of 3: ${ranked.map((r) => `seed ${r.seed}: ${r.value.toFixed(2)}`).join(' · ')}`);
    expect(await page.getByAltText(/^Result/).first().getAttribute('alt')).toBe(`Result 1 (seed ${ranked[0].seed}, 3 steps)`);
    // Structure has no mask: its view switch offers the photo, not "Photo & mask".
    expect(await page.getByRole('radiogroup', { name: 'View' }).textContent()).toBe('PhotoBefore / after');
    await score.hover();
    await page.getByText(/ControlNet\+\+'s consistency metric.*Higher is better\. Best of 3 seeds/).waitFor();
    await page.getByLabel('Prompt', { exact: true }).scrollIntoViewIfNeeded(); // the condition and its preview in view
    await screenshot(page, 'e2e-structure.png');

    // Reloaded, the project still shows the score (it travels in the result's parameters).
    await page.reload();
    await page.getByTestId('consistency').first().waitFor();
    expect(await page.getByTestId('consistency').first().textContent()).toBe(`Canny F1 ${ranked[0].value.toFixed(2)}`);

    // A condition whose annotator is missing: the engine's message, plainly, and no Generate.
    await page.getByRole('combobox', { name: 'Condition type' }).click();
    await page.getByRole('option', { name: 'Segmentation (ADE20K)' }).click();
    await page.getByText(/needs an annotator model at .*seg\.onnx, which is missing/).waitFor();
    expect(await page.getByRole('button', { name: 'Generate', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('combobox', { name: 'Condition type' }).click();
    await page.getByRole('option', { name: 'Canny edges' }).click();
    await preview.waitFor();
    expect(problems).toEqual([]);
    await page.close();
  }, 45_000);

  it('Edit photo by Prompt Tuning Inversion: the reconstruction first, then η re-edits from the cached inversion', async () => {
    const { page, problems } = await openPage(browser, server.url);
    await openWithChooser(page, COFFEE);
    await page.getByAltText('Photo: coffee.png').waitFor();
    await page.getByText('Edit photo', { exact: true }).click();
    await page.getByRole('combobox', { name: 'Method' }).click();
    await page.getByRole('option', { name: 'Prompt Tuning Inversion' }).click();

    // Only what inversion uses: no strength, scheduler, seed or negative prompt.
    await page.getByRole('slider', { name: 'Edit strength (η)' }).waitFor();
    for (const gone of ['Prompt', 'Negative prompt', 'Seed', 'Scheduler']) expect(await page.getByLabel(gone, { exact: true }).count(), gone).toBe(0);
    expect(await page.getByRole('slider', { name: 'Strength', exact: true }).count()).toBe(0);
    await page.getByLabel('Target prompt', { exact: true }).fill('a cup of tea');
    await page.getByLabel('Source prompt', { exact: true }).fill('a cup of coffee');
    await page.getByLabel('Steps', { exact: true }).fill('4');

    const inversionsBefore = engine.inversions;
    const invertEditsBefore = engine.invertEditRequests.length;
    const reeditsBefore = engine.reeditRequests.length;
    // Progress names the stage (the engine holds the job at its first step while we look).
    engine.pause();
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByText('Inverting · step 1 of 4', { exact: true }).waitFor();
    await screenshot(page, 'e2e-inversion-progress.png');
    engine.resume();

    // The reconstruction (η = 0) arrives first, then the edit at the slider's η (0.7).
    await page.getByText('η 0 · reconstruction').waitFor();
    await page.getByText('Result 1 · Reconstruction', { exact: true }).waitFor();
    expect(engine.invertEditRequests.at(-1)).toMatchObject({ method: 'pti', prompt: 'a cup of tea', sourcePrompt: 'a cup of coffee', steps: 4, eta: 0 });
    await page.getByText('η 0.70', { exact: true }).waitFor();
    expect(engine.reeditRequests.slice(reeditsBefore).map((r) => r.eta)).toEqual([0.7]);
    expect(engine.inversions).toBe(inversionsBefore + 1);
    expect(await page.getByTestId('inversion-metrics').first().textContent()).toMatch(/^latent MSE .* · PSNR \d+\.\d dB$/);

    // Moving η: one re-edit once the slider rests, from the same inversion; nothing is inverted again.
    await page.getByRole('slider', { name: 'Edit strength (η)' }).focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.getByText('η 0.60', { exact: true }).waitFor();
    const reedits = engine.reeditRequests.slice(reeditsBefore);
    expect(reedits.at(-1)).toMatchObject({ eta: 0.6, prompt: 'a cup of tea' });
    expect(new Set(reedits.map((r) => r.inversionId)).size).toBe(1);
    expect(engine.inversions).toBe(inversionsBefore + 1);
    expect(engine.invertEditRequests.length).toBe(invertEditsBefore + 1);
    await page.getByText('Moving η re-edits from the cached inversion: no new inversion runs.').waitFor();
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await screenshot(page, 'e2e-inversion.png');

    // After a reload η still re-edits, from the project's inversion (the engine keeps it): it did nothing.
    const inversionId = reedits.at(-1)!.inversionId;
    await page.reload();
    await page.getByAltText('Photo: coffee.png').waitFor();
    await page.getByText('Moving η re-edits from the cached inversion: no new inversion runs.').waitFor();
    const reeditsBeforeReload = engine.reeditRequests.length;
    await page.getByRole('slider', { name: 'Edit strength (η)' }).focus();
    await page.keyboard.press('ArrowLeft');
    await page.getByText('η 0.55', { exact: true }).waitFor();
    expect(engine.reeditRequests.slice(reeditsBeforeReload)).toEqual([expect.objectContaining({ inversionId, eta: 0.55, prompt: 'a cup of tea' })]);
    expect(engine.inversions).toBe(inversionsBefore + 1);

    // Reusing a result's settings makes η re-edit that result's own inversion, and says so.
    await page.getByLabel('Target prompt', { exact: true }).fill('a glass of milk');
    await page.getByRole('button', { name: 'Reuse settings of result 2' }).click();
    await page.getByText('Moving η re-edits its inversion; Generate inverts the photo again.', { exact: false }).waitFor();
    await expect.poll(() => page.getByLabel('Target prompt', { exact: true }).inputValue()).toBe('a cup of tea');
    const reeditsBeforeReuse = engine.reeditRequests.length;
    await page.getByRole('slider', { name: 'Edit strength (η)' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => engine.reeditRequests.length).toBe(reeditsBeforeReuse + 1);
    expect(engine.reeditRequests.at(-1)).toMatchObject({ inversionId, eta: 0.75, prompt: 'a cup of tea' });
    expect(engine.inversions).toBe(inversionsBefore + 1);
    expect(problems).toEqual([]);
    await page.close();
  }, 45_000);

  it('defaults to the CLI\'s settings (the model\'s scheduler; strength 0.75, with a mask 1), shows the steps that ran, and Escape abandons a stroke', async () => {
    // A first run: no projects yet (a reopened one brings its own settings) and a fresh browser profile.
    rmSync(projectsDir(), { recursive: true, force: true });
    const { page, problems } = await openPage(browser, server.url);
    await openWithChooser(page, COFFEE);
    const photo = page.getByAltText('Photo: coffee.png');
    await photo.waitFor();
    expect(await page.getByRole('combobox', { name: 'Scheduler' }).inputValue()).toBe('Model default');
    await page.getByLabel('Prompt', { exact: true }).fill('latte art');
    await page.getByLabel('Steps', { exact: true }).fill('6');
    await page.getByLabel('Seed', { exact: true }).fill('7');
    expect(await page.getByTestId('strength-value').textContent()).toMatch(/^0\.75 · /);
    // ⌊6 · 0.75⌋ = 4 steps run (img2imgStart).
    expect(await page.getByTestId('steps-run-hint').textContent()).toBe('Runs 4 of the 6 steps.');

    engine.pause(); // at step 1 until we have read its "of 4"
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByText('Step 1 of 4', { exact: true }).waitFor();
    engine.resume();
    const first = page.getByAltText(/^Result 1 /);
    await first.waitFor();
    expect(await first.getAttribute('alt')).toBe('Result 1 (seed 7, 6 steps, 4 run)');
    await page.getByText(/^img2img · 6 steps, 4 run · CFG 7\.5 · strength 0\.75 · 600×400$/).waitFor();
    const img2img = engine.generateRequests.at(-1)!;
    expect(img2img).toMatchObject({ kind: 'img2img', steps: 6, strength: 0.75, seed: 7 });
    expect('scheduler' in img2img).toBe(false); // the engine uses the model's scheduler_config.json

    // Escape during a stroke: the mask is as before and nothing was recorded.
    await page.getByText('Photo & mask', { exact: true }).click();
    const box = (await photo.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5, { steps: 8 });
    await expect.poll(() => maskAlphaAt(page, 300, 200)).toBeGreaterThan(0);
    await page.keyboard.press('Escape');
    await page.mouse.up();
    await expect.poll(() => maskAlphaAt(page, 300, 200)).toBe(0);
    // The action line follows the mask on the next render (read at once, it raced under load).
    await expect.poll(() => page.getByTestId('generate-action').textContent()).toContain('whole photo');
    await page.getByRole('button', { name: 'Undo', exact: true }).hover();
    await page.getByText('Undo result (Ctrl+Z)').waitFor(); // the result is the last entry, not a stroke

    // A stroke that ends: inpaint, at strength 1 unless changed — and changing it leaves img2img's 0.75.
    await strokeAcross(page, 'img[alt="Photo: coffee.png"]', [0.3, 0.5], [0.7, 0.5]);
    await expect.poll(() => page.getByTestId('strength-value').textContent()).toMatch(/^1\.00 · /);
    expect(await page.getByTestId('steps-run-hint').textContent()).toBe('Runs all 6 steps.');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const second = page.getByAltText(/^Result 2 /);
    await second.waitFor();
    expect(await second.getAttribute('alt')).toBe('Result 2 (seed 7, 6 steps)');
    expect(engine.generateRequests.at(-1)).toMatchObject({ kind: 'inpaint', strength: 1 });
    await page.getByText('Photo & mask', { exact: true }).click();
    await page.getByRole('slider', { name: 'Strength' }).focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.getByTestId('strength-value').textContent()).toMatch(/^0\.90 · /);
    await page.getByRole('button', { name: 'Clear mask' }).click();
    await expect.poll(() => page.getByTestId('strength-value').textContent()).toMatch(/^0\.75 · /);

    // A chosen scheduler is sent.
    await page.getByRole('combobox', { name: 'Scheduler' }).click();
    await page.getByRole('option', { name: 'Euler ancestral' }).click();
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByAltText(/^Result 3 /).waitFor();
    expect(engine.generateRequests.at(-1)).toMatchObject({ kind: 'img2img', scheduler: 'euler-a', strength: 0.75 });
    expect(problems).toEqual([]);
    await page.close();
  }, 45_000);

  it('shows a model that failed to load as "Model unavailable" with the engine\'s message, a dash for tokens, and Retry', async () => {
    const message = 'Model folder /nonexistent does not exist. Pass the folder of a diffusers ONNX export.';
    engine.modelError = new PentimentoError('MODEL_MISSING', message);
    try {
      const { page, problems } = await openPage(browser, server.url);
      const badge = page.getByTestId('model-error');
      await badge.waitFor();
      expect(await badge.textContent()).toBe('Model unavailable');
      expect(await page.getByText('Loading model…').count()).toBe(0);
      await expect.poll(() => page.getByTestId('token-count').textContent()).toBe('— tokens');
      // The newest project reopens with its own settings (its prompt): type once it has.
      await page.locator('img[alt^="Photo: "]').waitFor();
      await page.getByLabel('Prompt', { exact: true }).fill('three more words');
      await page.waitForTimeout(400); // past the count's debounce: still a dash, not a spinner
      expect(await page.getByTestId('token-count').textContent()).toBe('— tokens');
      expect(await page.getByTestId('model-error-alert').textContent()).toContain(message);
      expect(await page.getByRole('button', { name: 'Generate', exact: true }).isDisabled()).toBe(true);
      expect(await accessibilityProblems(page)).toEqual({ nameless: [], low: [] });
      await badge.hover();
      await page.getByRole('tooltip').filter({ hasText: message }).waitFor();
      await screenshot(page, 'e2e-model-error.png');

      const asked = engine.modelInfoRequests;
      engine.modelError = undefined;
      await page.getByRole('button', { name: 'Retry', exact: true }).click();
      await page.getByTestId('model-name').waitFor();
      expect(await page.getByTestId('model-name').textContent()).toBe('fake-sd15');
      expect(engine.modelInfoRequests).toBe(asked + 1);
      await expect.poll(() => page.getByTestId('token-count').textContent()).toBe('3/75 tokens');
      await expect.poll(() => page.getByTestId('model-error-alert').count()).toBe(0);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      engine.modelError = undefined;
    }
  }, 45_000);

  it('names every control and keeps text at WCAG AA contrast in every mode, light and dark; Escape closes menus', async () => {
    const { page, problems } = await openPage(browser, server.url);
    await openWithChooser(page, CHELSEA);
    await page.getByAltText('Photo: chelsea.png').waitFor();
    await page.getByLabel('Prompt', { exact: true }).fill('a quick job');
    await page.getByLabel('Steps', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect.poll(() => page.getByTestId('job').first().getAttribute('data-status')).toBe('done');
    await page.mouse.move(0, 0);

    const modes: [string, () => Promise<unknown>][] = [
      ['Generate', () => page.getByRole('combobox', { name: 'Size' }).waitFor()],
      ['Structure', () => page.getByAltText('Condition preview').waitFor()],
      ['Personalize', () => page.getByText('Personalize is not available yet').waitFor()],
      ['Edit photo', () => page.getByRole('slider', { name: 'Strength' }).waitFor()],
    ];
    // Everything found, so one run lists every problem.
    const found: Record<string, unknown[]> = {};
    const audit = async (where: string) => {
      const { nameless, low } = await accessibilityProblems(page);
      if (nameless.length) found[`${where}: unnamed`] = nameless;
      if (low.length) found[`${where}: low contrast`] = low.map((l) => `"${l.text}" ${l.ratio}:1 (${l.color} on ${l.background})`);
    };
    for (const [pass, theme] of ['light', 'dark'].entries()) {
      if (theme === 'dark') {
        await page.getByRole('button', { name: 'Dark theme' }).click();
        await expect.poll(() => page.locator('html').getAttribute('data-mantine-color-scheme')).toBe('dark');
        await page.mouse.move(0, 0);
      }
      for (const [mode, ready] of modes) {
        await page.getByText(mode, { exact: true }).first().click();
        await ready();
        await audit(`${theme} · ${mode}`);
      }
      await page.getByRole('combobox', { name: 'Method' }).click();
      await page.getByRole('option', { name: 'Prompt Tuning Inversion' }).click();
      await page.getByRole('slider', { name: 'Edit strength (η)' }).waitFor();
      await audit(`${theme} · inversion`);
      await page.getByRole('combobox', { name: 'Method' }).click();
      await page.getByRole('option', { name: 'img2img / inpaint' }).click();
      // Structure with a test annotator's map (its warning text), and a failed job's alert.
      await page.getByText('Structure', { exact: true }).click();
      await page.getByRole('combobox', { name: 'Condition type' }).click();
      await page.getByRole('option', { name: 'Depth' }).click();
      await page.getByText('Made by a random-weight test annotator').waitFor();
      await page.getByLabel('Prompt', { exact: true }).fill(`BREAK the engine (${theme})`);
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      // This pass's job has failed too (the light pass left one such alert already).
      await expect.poll(() => page.getByText('The fake engine ran out of memory on purpose (BREAK in the prompt).').count()).toBe(pass + 1);
      await page.mouse.move(0, 0);
      await audit(`${theme} · Structure, test annotator, failed job`);
      await page.getByRole('combobox', { name: 'Condition type' }).click();
      await page.getByRole('option', { name: 'Canny edges' }).click();
      await page.getByText('Edit photo', { exact: true }).click();
    }
    await screenshot(page, 'e2e-editor-dark-audit.png');
    expect(found).toEqual({});

    // Escape closes the project menu and a select's list.
    await page.getByRole('button', { name: 'Projects' }).click();
    await page.getByRole('menuitem').first().waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('menuitem').count()).toBe(0);
    await page.getByRole('combobox', { name: 'Scheduler' }).click();
    await page.getByRole('option', { name: 'DDIM' }).waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('option', { name: 'DDIM' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Dark theme' }).click();
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('opening a PNG Pentimento wrote restores its parameters; the settings travel with the project to a fresh browser profile', async () => {
    const parameters: GenerationParameters = {
      prompt: 'a red barn at dusk',
      negativePrompt: 'fog',
      seed: 31337,
      steps: 13,
      guidance: 6.5,
      scheduler: 'euler-a',
      strength: 0.45,
      width: 64,
      height: 48,
      model: { name: 'fake-sd15', hash: '0000' },
      method: 'img2img',
    };
    const rgb = new Uint8Array(64 * 48 * 3).map((_, i) => (i * 29) % 256);
    const barn = path.join(outDir, 'barn.png');
    writeFileSync(barn, await encodePng(rgb, 64, 48, parameters));

    const { page, problems } = await openPage(browser, server.url);
    await openWithChooser(page, barn);
    await page.getByAltText('Photo: barn.png').waitFor();
    await page.getByText("Settings restored from the image's parameters.").waitFor();
    const field = (p: Page, name: string) => p.getByLabel(name, { exact: true }).inputValue();
    await expect.poll(() => field(page, 'Prompt')).toBe('a red barn at dusk');
    expect(await field(page, 'Negative prompt')).toBe('fog');
    expect(await field(page, 'Steps')).toBe('13');
    expect(await field(page, 'Seed')).toBe('31337');
    expect(await field(page, 'Guidance')).toBe('6.5');
    expect(await page.getByRole('slider', { name: 'Strength' }).getAttribute('aria-valuenow')).toBe('0.45');

    // Changed settings are saved into the project (not only this browser's storage)…
    await page.getByLabel('Prompt', { exact: true }).fill('a blue barn at noon');
    await page.getByLabel('Steps', { exact: true }).fill('17');
    const dir = path.join(projectsDir(), (await page.evaluate(() => localStorage.getItem('pentimento.lastProject')))!);
    const saved = () => {
      try {
        return JSON.parse(readFileSync(path.join(dir, 'settings.json'), 'utf8')) as Record<string, unknown>;
      } catch {
        return {};
      }
    };
    await expect.poll(() => [saved().prompt, saved().steps]).toEqual(['a blue barn at noon', 17]);

    // …so another browser profile (fresh storage) reopens the project with them.
    const other = await openPage(browser, server.url);
    await other.page.getByAltText('Photo: barn.png').waitFor();
    await expect.poll(() => field(other.page, 'Prompt')).toBe('a blue barn at noon');
    expect(await field(other.page, 'Steps')).toBe('17');
    expect(await field(other.page, 'Seed')).toBe('31337');
    expect(await field(other.page, 'Negative prompt')).toBe('fog');

    expect(problems).toEqual([]);
    expect(other.problems).toEqual([]);
    await other.page.close();
    await page.close();
  }, 45_000);
  it('a PNG\'s parameters the controls cannot take, or a ControlNet not installed, are named in the notice', async () => {
    const rgb = new Uint8Array(64 * 48 * 3).map((_, i) => (i * 13) % 256);
    const write = async (name: string, parameters: Record<string, unknown>) => {
      const file = path.join(outDir, name);
      writeFileSync(file, await encodePng(rgb, 64, 48, { negativePrompt: '', guidance: 7.5, scheduler: 'ddim', width: 64, height: 48, model: { name: 'fake-sd15', hash: '0000' }, ...parameters } as unknown as GenerationParameters));
      return file;
    };
    const { page, problems } = await openPage(browser, server.url);
    await page.setViewportSize({ width: 1440, height: 900 });
    const field = (name: string) => page.getByLabel(name, { exact: true }).inputValue();
    // A photo first, so the start-up reopen of the last project cannot replace the steps typed next.
    await openWithChooser(page, COFFEE);
    await page.getByAltText('Photo: coffee.png').waitFor();
    await page.getByLabel('Steps', { exact: true }).fill('21');

    // The CLI takes 1000 steps and seeds up to 2^53−1: the seed comes back, the steps are named.
    const seed = Number.MAX_SAFE_INTEGER;
    await openWithChooser(page, await write('cli.png', { prompt: 'a cli barn', steps: 600, seed, guidance: 7, scheduler: 'ddim', strength: 0.5, method: 'img2img' }));
    await page.getByText("Settings restored from the image's parameters, except steps (600 is over 500).").waitFor();
    await expect.poll(() => field('Prompt')).toBe('a cli barn');
    expect(await field('Seed')).toBe(String(seed));
    expect(await field('Steps')).toBe('21');
    // The notice floats below the canvas toolbar, never over Brush or Undo/Redo.
    const toolbar = (await page.getByTestId('canvas-toolbar').boundingBox())!;
    const noticeBox = (await page.getByTestId('notifications').boundingBox())!;
    expect(noticeBox.y).toBeGreaterThanOrEqual(toolbar.y + toolbar.height);

    // Fields of the wrong type (a hand-edited file) are named; the well-typed ones are still taken.
    await page.getByLabel('Guidance', { exact: true }).fill('9');
    await openWithChooser(page, await write('junk.png', { prompt: 5, steps: 'abc' }));
    await page.getByAltText('Photo: junk.png').waitFor();
    await page.getByText('Settings restored from the image\'s parameters, except prompt (5 is not text) and steps ("abc" is not a number).').waitFor();
    expect(await field('Prompt')).toBe('a cli barn');
    expect(await field('Steps')).toBe('21');
    await expect.poll(() => field('Guidance')).toBe('7.5');

    // A ControlNet this machine lacks: restored in Structure with another one, and the notice says which.
    const control = (controlnet: string) => ({ prompt: 'lines', steps: 4, seed: 5, method: 'txt2img', extra: { control: [{ controlnet, type: 'canny', scale: 0.7, start: 0, end: 1 }] } });
    await openWithChooser(page, await write('depth.png', control('/home/someone/controlnets/control_v11f1p_sd15_depth/model.onnx')));
    await page.getByText("ControlNet 'control_v11f1p_sd15_depth' is not installed; using control_v11p_sd15_canny.", { exact: false }).waitFor();
    await expect.poll(() => page.getByRole('combobox', { name: 'ControlNet' }).inputValue()).toBe('control_v11p_sd15_canny');
    // One that is installed is chosen by its name, without a word.
    // The condition now comes from the opened result, and the notice says so, naming the recorded source.
    await openWithChooser(page, await write('test.png', { ...control('builtin:test-controlnet'), extra: { control: [{ controlnet: 'test', type: 'canny', scale: 0.7, image: 'barn.jpg', raw: false }] } }));
    await page
      .getByText("Settings restored from the image's parameters. Structure now takes its condition from this image, not from barn.jpg, the image it was made from.", { exact: true })
      .waitFor();
    await expect.poll(() => page.getByRole('combobox', { name: 'ControlNet' }).inputValue()).toBe('Test ControlNet (random weights)');

    expect(problems).toEqual([]);
    await page.close();
  }, 45_000);
  it('number fields take exponent notation as its value, and refuse letters with a message instead of dropping them', async () => {
    const { page, problems } = await openPage(browser, server.url);
    await openWithChooser(page, COFFEE);
    await page.getByAltText('Photo: coffee.png').waitFor();
    const steps = page.getByLabel('Steps', { exact: true });
    const seed = page.getByLabel('Seed', { exact: true });
    await steps.fill('30');
    // Filled or pasted whole: 1e3 is 1000, over Steps' 500 — refused, the field keeps 30.
    await steps.fill('1e3');
    await page.getByText('1e3 is over 500.').waitFor();
    expect(await steps.inputValue()).toBe('30');
    // Typed key by key: the "e" is refused where it is typed, not dropped (1e3 never becomes 13).
    await steps.fill('');
    await steps.pressSequentially('1e');
    await page.getByText('"e" is not part of a number; type digits only.').waitFor();
    expect(await steps.inputValue()).toBe('1');
    // More digits after the refused "e": the refusal stays in view until the field is left.
    await steps.pressSequentially('3');
    expect(await steps.inputValue()).toBe('13');
    expect(await page.getByText('"e" is not part of a number; type digits only.').count()).toBe(1);
    await steps.blur();
    await expect.poll(() => steps.inputValue()).toBe('13');
    expect(await page.getByText('"e" is not part of a number').count()).toBe(0);
    await seed.fill('1e30');
    await page.getByText(`1e30 is over ${Number.MAX_SAFE_INTEGER}.`).waitFor();
    await seed.fill('2e6');
    await expect.poll(() => seed.inputValue()).toBe('2000000');
    await seed.blur();
    expect(await seed.inputValue()).toBe('2000000');
    expect(problems).toEqual([]);
    await page.close();
  }, 30_000);
  it('a tiny photo is enlarged to fill the canvas on open and by Fit', async () => {
    const { page, problems } = await openPage(browser, server.url);
    const dot = path.join(outDir, 'dot.png');
    writeFileSync(dot, await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer());
    await openWithChooser(page, dot);
    await page.getByAltText('Photo: dot.png').waitFor();
    const zoomLevel = async () => parseInt((await page.getByTestId('zoom-level').textContent()) ?? '', 10);
    await expect.poll(zoomLevel).toBe(3200);
    await page.getByRole('button', { name: 'Zoom out' }).click();
    await expect.poll(zoomLevel).toBeLessThan(3200);
    await page.getByRole('button', { name: 'Fit' }).click();
    await expect.poll(zoomLevel).toBe(3200);
    expect(problems).toEqual([]);
    await page.close();
  }, 30_000);
  it('narrow windows: Generate stays clickable, the queue shows on demand, a fitted photo re-fits, zoom stops at its limits, notices float', async () => {
    const { page, problems } = await openPage(browser, server.url);
    await page.setViewportSize({ width: 900, height: 700 });
    await openWithChooser(page, COFFEE); // 600×400: fitted below 100 % at this width
    const zoomLevel = async () => parseInt((await page.getByTestId('zoom-level').textContent()) ?? '', 10);
    await expect.poll(zoomLevel).toBeLessThan(100);

    // Nothing lies over Generate (a trial click hit-tests the button), and the queue is a panel shown on demand.
    const generate = page.getByRole('button', { name: 'Generate', exact: true });
    await generate.click({ trial: true, timeout: 2_000 });
    expect(await page.getByRole('heading', { name: 'Results' }).isVisible()).toBe(false);
    await generate.click();
    await page.getByRole('button', { name: /^Show queue/ }).click();
    await page.getByRole('heading', { name: 'Results' }).waitFor();
    await page.getByRole('button', { name: /^Show result / }).first().waitFor();
    await page.getByRole('button', { name: /^Hide queue/ }).click();
    await page.getByRole('heading', { name: 'Results' }).waitFor({ state: 'hidden' });
    await generate.click({ trial: true, timeout: 2_000 });

    // Fitted and not zoomed by hand: a wider window re-fits the photo (600×400 fits whole at 100 %).
    await page.setViewportSize({ width: 1440, height: 900 });
    await expect.poll(zoomLevel).toBe(100);

    // Zoom − and + are disabled at the viewport's limits (5 % and 3200 %).
    const zoomOut = page.getByRole('button', { name: 'Zoom out' });
    const zoomIn = page.getByRole('button', { name: 'Zoom in' });
    for (let i = 0; i < 30 && (await zoomOut.isEnabled()); i++) await zoomOut.click();
    expect(await zoomLevel()).toBe(5);
    expect(await zoomOut.isDisabled()).toBe(true);
    for (let i = 0; i < 40 && (await zoomIn.isEnabled()); i++) await zoomIn.click();
    expect(await zoomLevel()).toBe(3200);
    expect(await zoomIn.isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Fit' }).click();

    // A notice floats over the canvas: the canvas does not move while it shows.
    const canvasTop = async () => (await page.getByTestId('canvas-frame').boundingBox())!.y;
    const before = await canvasTop();
    await page.getByRole('button', { name: /^Reuse settings of result / }).first().click();
    await page.getByText(/are back in the controls/).waitFor();
    expect(await canvasTop()).toBe(before);

    // A number field left empty shows the value in use again once it loses focus.
    await page.getByText('Structure', { exact: true }).click();
    await page.getByLabel('Best of', { exact: true }).fill('');
    await page.getByLabel('Prompt', { exact: true }).click();
    await expect.poll(() => page.getByLabel('Best of', { exact: true }).inputValue()).toMatch(/^\d+$/);
    await page.getByText('Edit photo', { exact: true }).click();
    // Steps, Guidance and Seed likewise: what the field shows is what Generate runs.
    for (const [label, typed] of [['Steps', '9'], ['Guidance', '6.5'], ['Seed', '77']] as const) {
      const field = page.getByLabel(label, { exact: true });
      await field.fill(typed);
      await field.fill('');
      await page.getByLabel('Prompt', { exact: true }).click();
      await expect.poll(() => field.inputValue()).toBe(typed);
    }

    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
