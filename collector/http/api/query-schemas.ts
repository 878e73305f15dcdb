import { z } from 'zod';
import { ID_PATTERN } from '../../../contract/topics.js';

/**
 * Shared pieces of the API's input schemas (docs/api.md): ids, time ranges (default the
 * last hour, at most 31 days), page sizes (1..1000, default 100) and cursors.
 */
export const MAX_RANGE_MS = 31 * 86_400_000;
export const DEFAULT_RANGE_MS = 3_600_000;
export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

export const Id = z.string().regex(ID_PATTERN, 'must be an id [a-z0-9_-], 1-63 characters');
export const EpochMs = z.coerce.number().int('must be an integer (epoch ms)').min(0).max(4_102_444_800_000);
export const Limit = z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT);
export const Lang = z.enum(['vi', 'en']).default('vi');

export const RangeFields = { from: EpochMs.optional(), to: EpochMs.optional() };

/**
 * The range of a query: `to` defaults to now, `from` to an hour before `to`; a range
 * longer than 31 days, or reversed, is an error (returned as reasons for a 400).
 */
export function resolveRange(q: { from?: number | undefined; to?: number | undefined }, now: number): { from: number; to: number } | string[] {
  const to = q.to ?? (q.from !== undefined ? Math.min(now, q.from + MAX_RANGE_MS) : now);
  const from = q.from ?? to - DEFAULT_RANGE_MS;
  const reasons: string[] = [];
  if (from > to) reasons.push('from: must not be after to');
  if (to - from > MAX_RANGE_MS) reasons.push('to: the range must be at most 31 days');
  return reasons.length ? reasons : { from, to };
}

/** Opaque page cursor: the sort key of the last item returned (`t` and a row id). */
export const Cursor = z
  .string()
  .max(64)
  .transform((s, ctx) => {
    const m = /^(\d{1,15})\.(\d{1,15})$/.exec(Buffer.from(s, 'base64url').toString('utf8'));
    if (!m) {
      ctx.addIssue({ code: 'custom', message: 'not a cursor from a previous page' });
      return z.NEVER;
    }
    return { t: Number(m[1]), id: Number(m[2]) };
  });

export function encodeCursor(t: number, id: number): string {
  return Buffer.from(`${t}.${id}`, 'utf8').toString('base64url');
}
