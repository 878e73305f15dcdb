/**
 * Hand-written checks of parsed JSON against a contract shape (issue 12: zod's parse, and the
 * copy it returns, on the hottest paths). Each accepts only what the zod schema it stands for
 * accepts and would return unchanged; anything else goes to zod (contract/fast-sample.ts,
 * contract/ack.ts; their tests compare both on tables of valid, invalid and hostile input).
 */
export type Check = (x: unknown) => boolean;
/** Keys of an object: each with its check, `true` when it may be absent. */
export type Shape = Record<string, readonly [Check, boolean]>;

export function shape(fields: Record<string, Check | readonly [Check, 'optional']>): Shape {
  const s: Shape = Object.create(null) as Shape;
  for (const [k, f] of Object.entries(fields)) s[k] = typeof f === 'function' ? [f, false] : [f[0], true];
  return s;
}

const requiredCount = new WeakMap<Shape, number>();

/** A plain object with only the shape's keys, each valid, every required one present. */
export function exact(x: unknown, s: Shape): boolean {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || Object.getPrototypeOf(x) !== Object.prototype) return false;
  let required = requiredCount.get(s);
  if (required === undefined) requiredCount.set(s, (required = Object.values(s).filter(([, optional]) => !optional).length));
  let seen = 0;
  for (const k in x) {
    if (!Object.prototype.hasOwnProperty.call(x, k)) return false;
    const f = s[k];
    if (f === undefined) return false;
    const v = (x as Record<string, unknown>)[k];
    // An optional key that is there must hold a value (JSON never gives undefined).
    if (v === undefined || !f[0](v)) return false;
    if (!f[1]) seen++;
  }
  return seen === required;
}

export const obj =
  (s: Shape): Check =>
  (x) =>
    exact(x, s);
export const num =
  (min: number, max: number): Check =>
  (x) =>
    typeof x === 'number' && x >= min && x <= max;
export const int =
  (min: number, max: number): Check =>
  (x) =>
    Number.isSafeInteger(x) && (x as number) >= min && (x as number) <= max;
export const nullable =
  (c: Check): Check =>
  (x) =>
    x === null || c(x);
export const str =
  (min: number, max: number): Check =>
  (x) =>
    typeof x === 'string' && x.length >= min && x.length <= max;
export const oneOf =
  (...values: string[]): Check =>
  (x) =>
    typeof x === 'string' && values.includes(x);
export const arrayOf =
  (c: Check, max: number): Check =>
  (x) => {
    if (!Array.isArray(x) || x.length > max) return false;
    for (let i = 0; i < x.length; i++) if (!c(x[i])) return false;
    return true;
  };
export const optional = (c: Check) => [c, 'optional'] as const;

const BOOT_ID = /^[A-Za-z0-9_-]+$/;
/** An agent boot id (the envelope's `boot` in contract/schemas.ts, the ack's in contract/ack.ts). */
export const bootId: Check = (x) => typeof x === 'string' && x.length >= 8 && x.length <= 64 && BOOT_ID.test(x);
