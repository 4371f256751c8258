import { createTheme, darken, type CSSVariablesResolver } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'indigo',
  // White on indigo.6 is 4.3:1; indigo.7 gives 5.0:1 (dark's default shade 8: 5.7:1).
  primaryShade: { light: 7, dark: 8 },
  defaultRadius: 'md',
  fontFamily: 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
});

/**
 * Mantine's secondary ("dimmed") and placeholder text fall below WCAG AA's 4.5:1 — on white
 * (gray.6: 3.3:1) and on the dark panels (dark.2 on dark.7: 4.0:1) — and so do, in the light
 * theme, coloured text (orange.6 on white: 2.6:1) and light-variant badges and alerts (shade 9
 * on shade 1: teal 4.3:1, yellow 2.7:1). These keep secondary text visibly quieter than body text while passing on every panel
 * and input background (tests/e2e/contrast.ts measures the page).
 */
export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    // Coloured text (c="orange") and light-variant text: shade 9 darkened by 30 %, ≥ 5:1 on white
    // and on shade 1 for every palette colour, yellow included.
    ...Object.fromEntries(
      Object.entries(t.colors).flatMap(([name, shades]) => [
        [`--mantine-color-${name}-text`, darken(shades[9], 0.3)],
        [`--mantine-color-${name}-light-color`, darken(shades[9], 0.3)],
      ]),
    ),
    // red.9: 5.4:1 on white (red.6 is 3.3:1).
    '--mantine-color-error': 'var(--mantine-color-red-9)',
    // 6.9:1 on white, 6.1:1 on gray.1.
    '--mantine-color-dimmed': '#5c636a',
    // 4.7:1 on white.
    '--mantine-color-placeholder': '#6c757d',
  },
  dark: {
    // dark.1: 7.7:1 on dark.7, 6.8:1 on dark.6.
    '--mantine-color-dimmed': 'var(--mantine-color-dark-1)',
    // 4.8:1 on dark.6 (inputs).
    '--mantine-color-placeholder': '#9a9a9a',
    // red.4: 6.6:1 on dark.7 (red.8 is 3.4:1).
    '--mantine-color-error': 'var(--mantine-color-red-4)',
  },
});
