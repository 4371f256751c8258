/**
 * Adam (Kingma & Ba 2015) over one flat parameter vector, moments in float64:
 *   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  θ ← θ − lr·m̂/(√v̂ + ε),  m̂ = m/(1−β₁ᵏ), v̂ = v/(1−β₂ᵏ).
 * The defaults are torch.optim.Adam's, which the inversion papers used.
 */
export class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private k = 0;

  constructor(
    size: number,
    readonly lr: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  /** Updates `params` in place. */
  step(params: Float32Array, grad: Float32Array): void {
    this.k++;
    const c1 = 1 - this.beta1 ** this.k;
    const c2 = 1 - this.beta2 ** this.k;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i];
      this.m[i] = this.beta1 * this.m[i] + (1 - this.beta1) * g;
      this.v[i] = this.beta2 * this.v[i] + (1 - this.beta2) * g * g;
      params[i] -= (this.lr * (this.m[i] / c1)) / (Math.sqrt(this.v[i] / c2) + this.eps);
    }
  }
}
