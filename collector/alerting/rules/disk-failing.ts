import { z } from 'zod';
import type { DiskHealth } from '../../../contract/schemas.js';
import type { Observation } from '../alert-types.js';
import { both, num } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/**
 * A disk that is failing (issue 17): from the agents' `disk_health` checks (every few hours,
 * `details.disks`), per physical disk, firing when SMART / Windows predicts failure
 * (critical), when reallocated + pending sectors rose by `minSectorIncrease` or more within
 * `windowHours`, or when the OS logged `minErrorEvents` or more disk errors in that window.
 * Recovers when none holds. A host with no check in the window is not judged.
 */
const Params = z
  .object({
    ...commonParams({ forSeconds: 0, schedule: 'always', severity: 'warning', repeatMinutes: 24 * 60 }),
    windowHours: z
      .number()
      .min(1)
      .max(24 * 8)
      .default(24 * 7),
    minSectorIncrease: z.number().int().min(1).max(1_000_000).default(1),
    minErrorEvents: z.number().int().min(1).max(1_000_000).default(3),
  })
  .strict();
type Params = z.output<typeof Params> & CommonParams;

const STATES = new Set(['ok', 'warning', 'failing', 'standby', 'unavailable']);

/** The `disks` of a stored disk_health event (ingest keeps them in details), shape-checked. */
export function disksOf(details: Record<string, unknown> | undefined): DiskHealth[] {
  const d = details?.disks;
  if (!Array.isArray(d)) return [];
  return d.filter((x): x is DiskHealth => !!x && typeof x === 'object' && typeof (x as DiskHealth).device === 'string' && STATES.has((x as DiskHealth).state));
}

/** Reallocated + pending sectors, undefined when the disk reports neither. */
export const badSectors = (d: DiskHealth): number | undefined =>
  d.reallocatedSectors === undefined && d.pendingSectors === undefined ? undefined : (d.reallocatedSectors ?? 0) + (d.pendingSectors ?? 0);

export const diskFailing: AlertRule<Params> = {
  name: 'disk_failing',
  description: { vi: 'Ổ cứng sắp hỏng (SMART, sector lỗi tăng, lỗi đĩa)', en: 'Disk failing (SMART, growing bad sectors, disk errors)' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out: Observation[] = [];
    const from = ctx.now - p.windowHours * 3_600_000;
    for (const site of ctx.sites) {
      for (const h of site.hosts) {
        const checks = ctx
          .events(site.site, h.host, from)
          .filter((e) => e.type === 'disk_health')
          .map((e) => ({ t: e.t, disks: disksOf(e.details) }))
          .filter((c) => c.disks.length > 0)
          .sort((a, b) => a.t - b.t);
        const latest = checks.at(-1);
        if (!latest) continue;
        for (const d of latest.disks) {
          const history = checks.map((c) => c.disks.find((x) => x.device === d.device)).filter((x): x is DiskHealth => x !== undefined);
          const sectorsNow = badSectors(d);
          const sectorsThen = history.map(badSectors).find((v) => v !== undefined);
          const rise = sectorsNow !== undefined && sectorsThen !== undefined ? sectorsNow - sectorsThen : 0;
          const errors = history.reduce((s, x) => s + (x.errorEvents ?? 0), 0);
          const predicted = d.predictedFailure === true || d.state === 'failing';
          const firing = predicted || rise >= p.minSectorIncrease || errors >= p.minErrorEvents;
          const name = d.model ? `${d.model} (${d.device})` : d.device;
          const days = num(p.windowHours / 24, 'vi', 0);
          out.push(
            observe(this.name, p, {
              site: site.site,
              host: h.host,
              key: d.device,
              severity: predicted ? 'critical' : p.severity,
              condition: firing ? 'firing' : 'recovered',
              value: sectorsNow ?? errors,
              summary: both((lang) => {
                const parts: string[] = [];
                if (lang === 'vi') {
                  if (predicted) parts.push('SMART dự báo ổ sắp hỏng');
                  if (sectorsNow !== undefined && sectorsNow > 0)
                    parts.push(`${num(sectorsNow, lang, 0)} sector lỗi${rise > 0 ? ` (tăng ${num(rise, lang, 0)} trong ${days} ngày)` : ''}`);
                  if (errors > 0) parts.push(`${num(errors, lang, 0)} lỗi đọc/ghi đĩa trong nhật ký hệ thống`);
                  return `Ổ cứng ${name}: ${parts.join('; ') || 'không còn dấu hiệu hỏng'}`;
                }
                if (predicted) parts.push('SMART predicts failure');
                if (sectorsNow !== undefined && sectorsNow > 0)
                  parts.push(`${num(sectorsNow, lang, 0)} bad sectors${rise > 0 ? ` (up ${num(rise, lang, 0)} in ${num(p.windowHours / 24, lang, 0)} days)` : ''}`);
                if (errors > 0) parts.push(`${num(errors, lang, 0)} disk I/O errors in the system log`);
                return `Disk ${name}: ${parts.join('; ') || 'no sign of failure any more'}`;
              }),
              hint: {
                vi: 'sao lưu hồ sơ trên máy ngay; thay ổ cứng (SSD) trước khi ổ hỏng hẳn',
                en: 'back up the files on this PC now; replace the disk (with an SSD) before it dies',
              },
            }),
          );
        }
      }
    }
    return out;
  },
};
