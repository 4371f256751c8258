import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const ARTIFACTS = path.resolve(process.cwd(), 'test-artifacts');

/**
 * Builds the renderer exactly as the app ships it, into `outDir` (a private folder, so a stale
 * or concurrent out/ cannot affect the test); returns the renderer folder.
 */
export function buildRenderer(outDir: string): string {
  const root = process.cwd();
  const build = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', outDir, '--logLevel', 'error'],
    { cwd: root, encoding: 'utf8' },
  );
  if (build.status !== 0) throw new Error(`electron-vite build failed:\n${build.stdout}\n${build.stderr}`);
  return path.join(outDir, 'renderer');
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}

/** A page that records console errors and uncaught exceptions, and fails fast on a missing locator. */
export async function openPage(browser: Browser, url: string, timeoutMs = 8_000): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(timeoutMs);
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(url);
  return { page, problems };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name) });
}

/** Drags the primary button from a to b (fractions of the element's box) in `steps` moves. */
export async function strokeAcross(page: Page, selector: string, a: [number, number], b: [number, number], steps = 12): Promise<void> {
  const box = (await page.locator(selector).boundingBox())!;
  await page.mouse.move(box.x + box.width * a[0], box.y + box.height * a[1]);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * b[0], box.y + box.height * b[1], { steps });
  await page.mouse.up();
}

/** The mask overlay's alpha at image pixel (x, y): 0 where nothing is painted. */
export function maskAlphaAt(page: Page, x: number, y: number): Promise<number> {
  return page.evaluate(
    ([px, py]) => {
      const canvas = document.querySelector<HTMLCanvasElement>('canvas[aria-label="Mask"]');
      if (!canvas) return -1;
      return canvas.getContext('2d')!.getImageData(px, py, 1, 1).data[3];
    },
    [x, y] as const,
  );
}

/**
 * After a test: a screenshot of every page it left open when it failed (test-artifacts/failed-…),
 * then those pages are closed, so a failure shows what the page looked like and leaves nothing
 * running into the next test.
 */
export async function closeLeftPages(browser: Browser | undefined, testName: string, failed: boolean): Promise<void> {
  const slug = testName.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
  let n = 0;
  for (const context of browser?.contexts() ?? []) {
    for (const page of context.pages()) {
      if (failed) await screenshot(page, `failed-${slug}-${++n}.png`).catch(() => undefined);
      await page.close().catch(() => undefined);
    }
  }
}
