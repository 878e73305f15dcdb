/**
 * Deep merge (objects merged, arrays and scalars replaced); `__proto__` & co. never copied.
 * How a remote configuration part lies over the agent's file (agent/config.ts) and a host's
 * part over its site's (collector/agentconfig/): one merge on both sides.
 */
export function mergeObjects(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype' || v === undefined) continue;
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? mergeObjects(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
