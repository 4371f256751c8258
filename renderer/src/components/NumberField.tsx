import { NumberInput, type NumberInputProps } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';

export interface NumberFieldProps extends Omit<NumberInputProps, 'value' | 'onChange'> {
  /** The value in use: what a job runs with. */
  value: number;
  /** Called with each number typed, clamped to [min, max] and rounded when decimals are not allowed. */
  onValue: (v: number) => void;
}

/**
 * A NumberInput that never shows anything but the value in use once it loses focus: a field
 * left empty (or holding a lone "-") gets that value back, so what is shown is what Generate runs.
 */
export function NumberField({ value, onValue, min, max, allowDecimal = true, onBlur, ...rest }: NumberFieldProps) {
  const [draft, setDraft] = useState<string | number>(value);
  // The last value this field reported: a different `value` came from elsewhere (Reuse settings, a random seed).
  const reported = useRef(value);
  useEffect(() => {
    if (value !== reported.current) setDraft(value);
    reported.current = value;
  }, [value]);
  return (
    <NumberInput
      {...rest}
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
        onBlur?.(e);
      }}
    />
  );
}
