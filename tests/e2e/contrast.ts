import type { Page } from 'playwright-core';

/** A text whose contrast with what lies behind it is below WCAG 2.x level AA. */
export interface LowContrast {
  text: string;
  ratio: number;
  /** What it needs: 4.5, or 3 for large text (24 px, or 18.66 px bold). */
  required: number;
  color: string;
  background: string;
}

/**
 * Every visible, enabled text on the page (text nodes, input values and placeholders) whose
 * contrast ratio is below AA: (L1 + 0.05) / (L2 + 0.05) over WCAG relative luminance, with the
 * text and background colours alpha-composited over their ancestors' backgrounds. Text over an
 * image or gradient is skipped (its background is not one colour); disabled controls are exempt.
 */
// Plain JavaScript run in the page: a string, so no bundler helper (e.g. __name) leaks into it.
const AUDIT = `(() => {
    const parse = (c) => {
      const m = c.match(/rgba?\\(([^)]+)\\)/);
      if (!m) return [0, 0, 0, 0];
      const p = m[1].split(/[\\s,/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const over = (top, bottom) => {
      const a = top[3] + bottom[3] * (1 - top[3]);
      if (a === 0) return [0, 0, 0, 0];
      const mix = (i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a;
      return [mix(0), mix(1), mix(2), a];
    };
    const channel = (v) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    const luminance = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
    const css = (c) => 'rgb(' + c.slice(0, 3).map(Math.round).join(', ') + ')';

    // The opaque colour behind el, or undefined when an image or gradient is behind it.
    const backgroundOf = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.backgroundImage !== 'none') return undefined;
        const c = parse(s.backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
      }
      let bg = [255, 255, 255, 1];
      for (const layer of layers.reverse()) bg = over(layer, bg);
      return bg;
    };
    const opacityOf = (el) => {
      let o = 1;
      for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
      return o;
    };
    const exempt = (el) =>
      el.closest('[disabled], [data-disabled="true"], [data-disabled=""], [aria-disabled="true"], [aria-hidden="true"]') !== null;
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility === 'visible' && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
    };

    const found = [];
    const check = (el, text, colorCss) => {
      const bg = backgroundOf(el);
      if (!bg) return;
      const s = getComputedStyle(el);
      const c = parse(colorCss);
      const fg = over([c[0], c[1], c[2], c[3] * opacityOf(el)], bg);
      const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = parseFloat(s.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
      const required = large ? 3 : 4.5;
      if (ratio < required - 0.005) found.push({ text: text.slice(0, 60), ratio: Math.round(ratio * 100) / 100, required, color: css(fg), background: css(bg) });
    };

    for (const el of document.body.querySelectorAll('*')) {
      if (!visible(el) || exempt(el)) continue;
      const own = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent || '').join('').trim();
      if (own) check(el, own, getComputedStyle(el).color);
      if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
        if (el.type === 'hidden' || el.type === 'file') continue;
        if (el.value) check(el, el.value, getComputedStyle(el).color);
        else if (el.placeholder) check(el, el.placeholder, getComputedStyle(el, '::placeholder').color);
      }
    }
    return found;
})()`;

export function lowContrastTexts(page: Page): Promise<LowContrast[]> {
  return page.evaluate(AUDIT) as Promise<LowContrast[]>;
}

/**
 * Resolves once no finite CSS transition or animation is running (a menu fading out, a panel
 * sliding in): colours mid-transition are not the ones that stay. Endless ones (a spinner, a
 * running job's striped bar) are not waited for.
 */
export async function animationsSettled(page: Page, timeoutMs = 8_000): Promise<void> {
  // page.evaluate of a string, polled here: waitForFunction evaluates its predicate with eval, which the app's CSP forbids.
  const running = `document.getAnimations().filter((a) => a.playState === 'running' && a.effect !== null && a.effect.getComputedTiming().endTime !== Infinity).length`;
  const deadline = Date.now() + timeoutMs;
  while ((await page.evaluate<number>(running)) > 0) {
    if (Date.now() > deadline) throw new Error(`Transitions still running after ${timeoutMs} ms.`);
    await page.waitForTimeout(50); // the polling interval
  }
}
