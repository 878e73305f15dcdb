/** How {@link mutations} varies a value (the schema under test decides the hostile values and bounds). */
export interface MutationOptions {
  /** Wrong and hostile values put in place of each leaf in turn. */
  hostile: readonly unknown[];
  /** Unknown sibling keys added to each object (skipped where the object has the key). */
  extraKeys: readonly string[];
  /** Arrays: one item more than they have. */
  extraItem?: boolean;
  /** Arrays: a length just past the schema's bound. */
  tooLong: number;
}

/**
 * Every variant of `base` with one field replaced (by each hostile value), removed, or given
 * an unknown sibling, a `__proto__` key or a null prototype; arrays also one item more and
 * one past their bound. For tests that a hand-written check accepts exactly what zod accepts
 * unchanged (contract/fast-sample.ts, contract/ack.ts).
 */
export function mutations(base: unknown, opts: MutationOptions, path: string[] = []): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const at = path.join('.') || '(root)';
  if (Array.isArray(base)) {
    base.forEach((item, i) => {
      for (const [name, v] of mutations(item, opts, [...path, String(i)])) out.push([name, Object.assign([...base], { [i]: v })]);
    });
    if (opts.extraItem) out.push([`${at} + item`, [...base, base[0] ?? 1]]);
    out.push([`${at} too long`, Array.from({ length: opts.tooLong }, () => base[0] ?? 1)]);
    return out;
  }
  if (typeof base === 'object' && base !== null) {
    const o = base as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      for (const [name, v] of mutations(o[k], opts, [...path, k])) out.push([name, { ...o, [k]: v }]);
      const { [k]: _gone, ...rest } = o;
      out.push([`${[...path, k].join('.')} missing`, rest]);
    }
    for (const extra of opts.extraKeys) if (!Object.hasOwn(o, extra)) out.push([`${at} + ${extra}`, { ...o, [extra]: 1 }]);
    out.push([`${at} + __proto__`, JSON.parse(JSON.stringify(o).replace(/^\{/, Object.keys(o).length ? '{"__proto__":{"x":1},' : '{"__proto__":{"x":1}')) as unknown]);
    out.push([`${at} null prototype`, Object.assign(Object.create(null) as object, o)]);
    return out;
  }
  for (const h of opts.hostile) out.push([`${path.join('.')} = ${typeof h === 'string' ? JSON.stringify(h.slice(0, 8)) : (JSON.stringify(h) ?? String(h))}`, h]);
  return out;
}
