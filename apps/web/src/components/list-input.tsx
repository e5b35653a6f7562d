"use client";
import { useEffect, useState } from "react";
import type { InputHTMLAttributes } from "react";

/**
 * A text field holding a parsed value (a comma-separated list, `name=value` pairs): it shows
 * what was typed — a trailing comma, a name without its `=` yet — and reports the parsed value
 * on every keystroke; it takes the value from outside only when that differs from what the
 * typed text parses to (another control changed it).
 */
export function ParsedInput<T>(props: { value: T; format(v: T): string; parse(text: string): T; onValue(v: T): void } & Omit<InputHTMLAttributes<HTMLInputElement>, "value" | "onChange">) {
  const { value, format, parse, onValue, ...rest } = props;
  const [text, setText] = useState(() => format(value));
  useEffect(() => {
    if (JSON.stringify(parse(text)) !== JSON.stringify(value)) setText(format(value));
    // Only an outside change of the value resets the text.
  }, [JSON.stringify(value)]);
  return (
    <input
      {...rest}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        onValue(parse(e.target.value));
      }}
    />
  );
}

/** "a, b" ↔ ["a", "b"]; empty ↔ undefined (the field is left out). */
export const listFormat = (xs: readonly (string | number)[] | undefined) => (xs ?? []).join(", ");
export const listParse = (s: string): string[] | undefined => {
  const xs = s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  return xs.length ? xs : undefined;
};
