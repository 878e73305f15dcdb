/** Validity of enrolment tokens: `--expires 7d` (CLI) or `expires: "7d"` (API). */
export const DEFAULT_EXPIRES = '7d';
/** Longest validity: a token is a secret pasted into commands; it should not live for ever. */
export const MAX_EXPIRES_MS = 90 * 86_400_000;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30m`, `12h`, `7d`, `2w` → milliseconds; undefined when malformed or out of range (1 minute to 90 days). */
export function parseExpires(text: string): number | undefined {
  const m = /^([1-9][0-9]{0,4})([mhdw])$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms <= MAX_EXPIRES_MS ? ms : undefined;
}

export const EXPIRES_HINT = 'a duration like 30m, 12h, 7d or 2w (at most 90 days)';
