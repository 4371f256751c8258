/** What a number field makes of the text it would hold after an edit. */
export type TypedNumber =
  /** Plain digits (or a partial number such as "-" or "1."): the field takes it as usual. */
  | { kind: 'plain' }
  /** A number in another notation (1e3): the field takes this value. */
  | { kind: 'value'; value: number }
  /** Not a number, or one the field cannot hold: the edit is refused with this message. */
  | { kind: 'refused'; message: string };

const PLAIN = /^[-+]?\d*\.?\d*$/;

/**
 * The field's text after an edit, read the way a person means it: plain digits as usual, a
 * whole number in exponent notation (what a paste or a fill brings, "1e3") as its value, and
 * anything else refused with a message — never letters silently dropped (1e3 turning into 13).
 */
export function typedNumber(text: string, limits: { min?: number; max?: number; integer: boolean }): TypedNumber {
  const t = text.trim();
  if (PLAIN.test(t)) return { kind: 'plain' };
  const value = Number(t);
  if (t === '' || !Number.isFinite(value)) {
    const stray = t.replace(/[-+\d.\s]/g, '').slice(0, 1);
    return { kind: 'refused', message: `"${stray || t}" is not part of a number; type digits only.` };
  }
  if (limits.integer && !Number.isInteger(value)) return { kind: 'refused', message: `${t} is not a whole number.` };
  if (limits.max !== undefined && value > limits.max) return { kind: 'refused', message: `${t} is over ${limits.max}.` };
  if (limits.min !== undefined && value < limits.min) return { kind: 'refused', message: `${t} is under ${limits.min}.` };
  return { kind: 'value', value };
}
