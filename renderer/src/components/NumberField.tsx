import { NumberInput, type NumberInputProps } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { typedNumber } from './typedNumber';

export interface NumberFieldProps extends Omit<NumberInputProps, 'value' | 'onChange'> {
  /** The value in use: what a job runs with. */
  value: number;
  /** Called with each number typed, clamped to [min, max] and rounded when decimals are not allowed. */
  onValue: (v: number) => void;
}

/**
 * A NumberInput that never shows anything but the value in use once it loses focus: a field
 * left empty (or holding a lone "-") gets that value back, so what is shown is what Generate runs.
 * Text that is not plain digits is never silently stripped (the field would read 1e3 as 13):
 * exponent notation is taken as its value, anything else refused with a message under the field.
 */
export function NumberField({ value, onValue, min, max, allowDecimal = true, onBlur, error, ...rest }: NumberFieldProps) {
  const [draft, setDraft] = useState<string | number>(value);
  const [refusal, setRefusal] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const limits = useRef({ min, max, integer: !allowDecimal, onValue });
  limits.current = { min, max, integer: !allowDecimal, onValue };
  // beforeinput sees the text as typed, pasted or filled, before the number format strips what is not a digit.
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    const check = (e: InputEvent) => {
      // A refusal stays in view while more digits are typed (1, refused e, 3 reads 13: the message
      // says why); deleting or leaving the field clears it.
      if (e.inputType.startsWith('delete')) setRefusal(null);
      if (e.data === null || !e.inputType.startsWith('insert')) return;
      const start = el.selectionStart ?? el.value.length;
      const end = el.selectionEnd ?? start;
      const { onValue: report, ...bounds } = limits.current;
      const read = typedNumber(el.value.slice(0, start) + e.data + el.value.slice(end), {
        min: typeof bounds.min === 'number' ? bounds.min : undefined,
        max: typeof bounds.max === 'number' ? bounds.max : undefined,
        integer: bounds.integer,
      });
      if (read.kind === 'plain') return;
      e.preventDefault();
      if (read.kind === 'refused') {
        setRefusal(read.message);
        return;
      }
      setRefusal(null);
      setDraft(read.value);
      reported.current = read.value;
      report(read.value);
    };
    el.addEventListener('beforeinput', check);
    return () => el.removeEventListener('beforeinput', check);
  }, []);
  // The last value this field reported: a different `value` came from elsewhere (Reuse settings, a random seed).
  const reported = useRef(value);
  useEffect(() => {
    if (value !== reported.current) setDraft(value);
    reported.current = value;
  }, [value]);
  return (
    <NumberInput
      {...rest}
      ref={input}
      error={refusal ?? error}
      min={min}
      max={max}
      allowDecimal={allowDecimal}
      value={draft}
      onChange={(v) => {
        setDraft(v);
        if (typeof v !== 'number' || !Number.isFinite(v)) return;
        let n = allowDecimal ? v : Math.round(v);
        if (min !== undefined) n = Math.max(min, n);
        if (max !== undefined) n = Math.min(max, n);
        reported.current = n;
        onValue(n);
      }}
      onBlur={(e) => {
        setDraft(value);
        setRefusal(null);
        onBlur?.(e);
      }}
    />
  );
}
