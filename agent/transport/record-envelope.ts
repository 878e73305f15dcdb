/** What the publisher reads from and adds to a stored record's JSON text (publisher.ts). */

/** Append `"sent":<now>` to a JSON object text that was stored without it. */
export function withSendTime(body: string, sent: number): string {
  return `${body.slice(0, -1)},"sent":${sent}}`;
}

/**
 * The (boot, seq) of an outbox record, which the collector's acks name. The agent writes
 * the envelope first (`{"v":1,"site":…,"host":…,"boot":…,"seq":…`, agent.ts), so a look at
 * the first bytes finds them without parsing a whole inventory; JSON.parse is the fallback.
 */
export function recordKey(body: string): { boot: string; seq: number } | undefined {
  const m = /"boot":"([A-Za-z0-9_-]{1,64})","seq":(\d{1,16})[,}]/.exec(body.slice(0, 512));
  if (m) {
    const seq = Number(m[2]);
    if (Number.isSafeInteger(seq)) return { boot: m[1]!, seq };
  }
  try {
    const o = JSON.parse(body) as { boot?: unknown; seq?: unknown } | null;
    if (o && typeof o.boot === 'string' && typeof o.seq === 'number' && Number.isSafeInteger(o.seq)) return { boot: o.boot, seq: o.seq };
  } catch {
    // not JSON: no key
  }
  return undefined;
}
