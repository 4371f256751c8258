/**
 * The per-step inversion loss in the linear form the guided-loss VJP model takes.
 *
 * With the DDIM step z_prev = a·z + b·ε (stepCoefficients) and guidance
 * ε = ε_∅ + w·(ε_c − ε_∅), the branch being tuned enters as ε = base + k·ε_tuned:
 *   PTI (tunes c):  base = (1 − w)·ε_∅,  k = w
 *   NTI (tunes ∅):  base = w·ε_c,        k = 1 − w
 *   no guidance:    base = 0,            k = 1
 * so z_prev − target = s·ε_tuned − r with s = b·k and r = target − a·z − b·base.
 */
export interface GuidedLossTerms {
  scale: number;
  residual: Float32Array;
}

export function guidedLossTerms(
  step: { sampleCoef: number; outputCoef: number },
  z: Float32Array,
  target: Float32Array,
  base: Float32Array | undefined,
  k: number,
): GuidedLossTerms {
  const { sampleCoef: a, outputCoef: b } = step;
  const residual = new Float32Array(z.length);
  for (let i = 0; i < z.length; i++) residual[i] = target[i] - a * z[i] - (base ? b * base[i] : 0);
  return { scale: b * k, residual };
}

/** L = ‖s·ε − r‖² / n, in float64. */
export function guidedLoss(terms: GuidedLossTerms, eps: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < eps.length; i++) {
    const d = terms.scale * eps[i] - terms.residual[i];
    sum += d * d;
  }
  return sum / eps.length;
}
