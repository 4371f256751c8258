/**
 * Symbolic dims with enough algebra that two dims the graph computes the same way compare equal:
 * the broadcast reduction then knows statically that nothing was broadcast.
 *
 * Atoms are the graph's own dim_params (`batch_size`, `height`) and fresh `?n` symbols. Derived
 * dims are interned by their defining expression, so the same expression always gives the same
 * symbol:
 * - products are monomials c·a₁·a₂… (a Reshape's -1 is a monomial quotient);
 * - a broadcast of two symbols is max{a, b}: commutative, associative, idempotent, so
 *   max(B, max(B, T)) = max(B, T) however often a residual stream meets the time embedding;
 * - other arithmetic (Conv output sizes, sums) is an opaque symbol named by its operands.
 * Ops that require dims to be equal at runtime (Concat's other axes, MatMul's inner dim) merge
 * their classes (union-find), so `same` sees through them.
 */
export type Dim = number | string;

interface Monomial {
  c: number;
  atoms: string[];
}

export class SymbolicDims {
  private fresh = 0;
  private readonly interned = new Map<string, string>();
  private readonly monomials = new Map<string, Monomial>();
  private readonly maxima = new Map<string, string[]>();
  private readonly parent = new Map<string, Dim>();
  private readonly resolving = new Set<string>();

  freshDim(): string {
    return `?${this.fresh++}`;
  }

  /** The symbol for an expression key: the same key, the same symbol. */
  intern(key: string): string {
    let s = this.interned.get(key);
    if (!s) {
      s = `?${key}`;
      this.interned.set(key, s);
    }
    return s;
  }

  /** The class representative of a dim (a number when the class met one). */
  canon(d: Dim): Dim {
    if (typeof d === 'number') return d;
    let r: Dim = d;
    const path: string[] = [];
    while (typeof r === 'string' && this.parent.has(r)) {
      path.push(r);
      r = this.parent.get(r)!;
    }
    for (const p of path) this.parent.set(p, r);
    if (typeof r === 'string' && this.maxima.has(r) && !this.resolving.has(r)) {
      this.resolving.add(r);
      try {
        const resolved = this.maxOfAll(this.maxima.get(r)!.map((a) => this.canon(a)));
        if (resolved !== r) return resolved;
      } finally {
        this.resolving.delete(r);
      }
    }
    return r;
  }

  same(a: Dim, b: Dim): boolean {
    return a === b || this.canon(a) === this.canon(b);
  }

  /** Records that a and b are equal at runtime (the graph would fail otherwise). */
  unify(a: Dim, b: Dim): void {
    const ra = this.canon(a);
    const rb = this.canon(b);
    if (ra === rb) return;
    if (typeof ra === 'number' && typeof rb === 'number') return; // the graph is inconsistent; leave it to onnxruntime
    if (typeof ra === 'number') this.parent.set(rb as string, ra);
    else if (typeof rb === 'number') this.parent.set(ra, rb);
    else if (this.weight(rb) > this.weight(ra)) this.parent.set(ra, rb);
    else this.parent.set(rb, ra);
  }

  /**
   * Which symbol represents a merged class: products first (height = 2·h′ once a skip Concat
   * proves it, so Conv arithmetic can divide it by the stride), then graph-declared names (they
   * read better), then derived and fresh symbols.
   */
  private weight(s: string): number {
    if (this.monomials.has(s)) return 2;
    return s.startsWith('?') ? 0 : 1;
  }

  /** Whether dim d is known to be a multiple of n. */
  divisible(d: Dim, n: number): boolean {
    const c = this.canon(d);
    return typeof c === 'number' ? c % n === 0 : this.quotient(c, n) !== undefined;
  }

  // ---- broadcasting ------------------------------------------------------------------------

  private maxOfAll(dims: Dim[]): Dim {
    const atoms = new Set<string>();
    let num: number | undefined;
    for (const d of dims) {
      if (typeof d === 'number') num = num === undefined ? d : Math.max(num, d);
      else for (const a of this.maxima.get(d) ?? [d]) atoms.add(a);
    }
    // A number > 1 fixes the dim: every broadcast partner is 1 or that number.
    if (num !== undefined && num !== 1) return num;
    if (atoms.size === 0) return num ?? 1;
    const sorted = [...atoms].sort();
    if (sorted.length === 1) return sorted[0];
    const s = this.intern(`max(${sorted.join(',')})`);
    this.maxima.set(s, sorted);
    return s;
  }

  /** The dim two broadcast operands give (numpy rules). */
  broadcast(a: Dim, b: Dim): Dim {
    const x = this.canon(a);
    const y = this.canon(b);
    if (x === y) return x;
    if (x === 1) return y;
    if (y === 1) return x;
    return this.maxOfAll([x, y]);
  }

  // ---- products ----------------------------------------------------------------------------

  private monomial(d: Dim): Monomial {
    const c = this.canon(d);
    if (typeof c === 'number') return { c, atoms: [] };
    return this.monomials.get(c) ?? { c: 1, atoms: [c] };
  }

  private fromMonomial(m: Monomial): Dim {
    if (m.atoms.length === 0 || m.c === 0) return m.c;
    if (m.c === 1 && m.atoms.length === 1) return m.atoms[0];
    const atoms = [...m.atoms].sort();
    const s = this.intern(`${m.c === 1 ? '' : `${m.c}*`}${atoms.join('*')}`);
    this.monomials.set(s, { c: m.c, atoms });
    return s;
  }

  product(dims: readonly Dim[]): Dim {
    let c = 1;
    const atoms: string[] = [];
    for (const d of dims) {
      const m = this.monomial(d);
      c *= m.c;
      atoms.push(...m.atoms);
    }
    return this.fromMonomial({ c, atoms });
  }

  /** a / b when b divides a exactly as monomials, else undefined. */
  quotient(a: Dim, b: Dim): Dim | undefined {
    const ma = this.monomial(a);
    const mb = this.monomial(b);
    if (mb.c === 0 || ma.c % mb.c !== 0) return undefined;
    const rest = [...ma.atoms];
    for (const atom of mb.atoms) {
      const k = rest.indexOf(atom);
      if (k < 0) return undefined;
      rest.splice(k, 1);
    }
    return this.fromMonomial({ c: ma.c / mb.c, atoms: rest });
  }

  /** a + b, a − b and other arithmetic: exact on numbers, an interned symbol otherwise. */
  arith(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: Dim, b: Dim): Dim {
    const x = this.canon(a);
    const y = this.canon(b);
    if (typeof x === 'number' && typeof y === 'number') {
      if (op === 'Add') return x + y;
      if (op === 'Sub') return x - y;
      if (op === 'Mul') return x * y;
      return Math.trunc(x / y);
    }
    if (op === 'Mul') return this.product([x, y]);
    if (op === 'Div') return this.quotient(x, y) ?? this.intern(`(${x})/(${y})`);
    if (y === 0) return x;
    if (op === 'Sub' && x === y) return 0;
    const [p, q] = op === 'Add' && String(x) > String(y) ? [y, x] : [x, y];
    return this.intern(`(${p})${op === 'Add' ? '+' : '-'}(${q})`);
  }

  /**
   * Output size of a Conv/pool window along one axis: ⌊(d + pb + pe − dil·(k−1) − 1)/s⌋ + 1.
   * Stride 1 with padding dil·(k−1) keeps d; a dim that is a multiple c·m of the stride s with
   * pb + pe − dil·(k−1) − 1 in [−s, −1] gives d/s (SD's 3×3 stride-2 downsampling of an even size).
   */
  convOut(d: Dim, k: number, s: number, dil: number, pb: number, pe: number): Dim {
    const x = this.canon(d);
    const t = pb + pe - dil * (k - 1) - 1;
    if (typeof x === 'number') return Math.floor((x + t) / s) + 1;
    if (s === 1) return t === -1 ? x : this.arith('Add', x, t + 1);
    if (t >= -s && t <= -1) {
      const q = this.quotient(x, s);
      if (q !== undefined) return q;
    }
    return this.intern(`conv(${x};${k},${s},${dil},${pb},${pe})`);
  }
}
