/**
 * How the inference timesteps are spread over 0 … N−1 (Lin et al. 2023, "Common diffusion noise
 * schedules and sample steps are flawed", Table 2), reproducing diffusers' numpy expressions.
 * Results are descending.
 */
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/** numpy's round(): half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** np.linspace(start, stop, num): start + i·step with the last point exactly `stop`. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => start + i * step);
  out[num - 1] = stop;
  return out;
}

/**
 * DDIM / Euler spacing of `n` steps over N train steps:
 * - leading:  (arange(n)·⌊N/n⌋)[::-1] + steps_offset      — SD1.5: 50 steps → 981, 961, …, 1
 * - trailing: round(arange(N, 0, −N/n)) − 1               — always starts at N−1
 * - linspace: linspace(0, N−1, n)[::-1], rounded when `integer` (DDIM) else kept fractional (Euler)
 */
export function spacedTimesteps(spacing: TimestepSpacing, n: number, numTrain: number, stepsOffset: number, integer: boolean): number[] {
  switch (spacing) {
    case 'leading': {
      const ratio = Math.floor(numTrain / n);
      return Array.from({ length: n }, (_, i) => (n - 1 - i) * ratio + stepsOffset);
    }
    case 'trailing': {
      const ratio = numTrain / n;
      return Array.from({ length: n }, (_, i) => roundHalfEven(numTrain - i * ratio) - 1);
    }
    case 'linspace': {
      const points = linspace(0, numTrain - 1, n).reverse();
      // diffusers' Euler builds these with dtype float32.
      return integer ? points.map(roundHalfEven) : points.map(Math.fround);
    }
  }
}

/**
 * DPM-Solver's spacing: n+1 points with the smallest dropped, so the last step is not t = 0.
 * - leading:  (arange(n+1)·⌊N/(n+1)⌋)[::-1][:-1] + steps_offset
 * - trailing: as above
 * - linspace: round(linspace(0, N−1, n+1))[::-1][:-1]
 */
export function dpmSolverTimesteps(spacing: TimestepSpacing, n: number, numTrain: number, stepsOffset: number): number[] {
  switch (spacing) {
    case 'leading': {
      const ratio = Math.floor(numTrain / (n + 1));
      return Array.from({ length: n }, (_, i) => (n - i) * ratio + stepsOffset);
    }
    case 'trailing':
      return spacedTimesteps('trailing', n, numTrain, stepsOffset, true);
    case 'linspace':
      return linspace(0, numTrain - 1, n + 1)
        .map(roundHalfEven)
        .reverse()
        .slice(0, n);
  }
}
