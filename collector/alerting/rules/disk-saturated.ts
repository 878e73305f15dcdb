import { z } from 'zod';
import { both, num } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/**
 * A disk busy all the time (issue 17): the mean busy % of the PC's busiest physical disk over
 * `windowSeconds` at or above `busyPct` (iostat %util, Windows 100 − % Idle Time), held for
 * `forSeconds`, in the site's working hours. An old HDD at 100 % makes every click wait: the
 * "máy chậm, treo" of the commune reports. Recovers under `recoveryPct`. Needs agents that
 * send `diskio` (older agents: not judged).
 */
const Params = z
  .object({
    ...commonParams({ forSeconds: 300, schedule: 'working_hours', severity: 'warning' }),
    windowSeconds: z.number().min(30).max(1800).default(300),
    busyPct: z.number().min(1).max(100).default(90),
    recoveryPct: z.number().min(1).max(100).default(70),
  })
  .strict()
  .refine((p) => p.recoveryPct < p.busyPct, { message: 'recoveryPct must be below busyPct', path: ['recoveryPct'] });
type Params = z.output<typeof Params> & CommonParams;

export const diskSaturated: AlertRule<Params> = {
  name: 'disk_saturated',
  description: { vi: 'Ổ cứng quá tải kéo dài (bận ≥ 90%)', en: 'Disk saturated (busy ≥ 90%) for a sustained time' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    const from = ctx.now - p.windowSeconds * 1000;
    for (const site of ctx.sites) {
      for (const h of site.hosts) {
        const w = ctx.window(site.site, h.host, from);
        const busy = w.mean('diskBusy');
        if (busy === null) continue;
        const queue = w.mean('diskQueue');
        const disk = ctx.lastSample(site.site, h.host, from)?.busiestDisk;
        const min = Math.round(p.windowSeconds / 60);
        out.push(
          observe(this.name, p, {
            site: site.site,
            host: h.host,
            condition: busy >= p.busyPct ? 'firing' : busy < p.recoveryPct ? 'recovered' : 'hold',
            value: Number(busy.toFixed(1)),
            summary: both((lang) => {
              const q = queue !== null ? (lang === 'vi' ? `, hàng đợi ${num(queue, lang)} yêu cầu` : `, queue ${num(queue, lang)} requests`) : '';
              return lang === 'vi'
                ? `Ổ cứng${disk ? ` ${disk}` : ''} bận ${num(busy, lang, 0)}% trung bình ${min} phút${q} (ngưỡng ${p.busyPct}%): máy chậm, mở và lưu hồ sơ phải chờ`
                : `Disk${disk ? ` ${disk}` : ''} ${num(busy, lang, 0)}% busy over ${min} min${q} (limit ${p.busyPct}%): the PC is slow, opening and saving files waits`;
            }),
            hint: {
              vi: 'xem chương trình nào đọc/ghi ổ đĩa (Task Manager → Hiệu suất/Ổ đĩa); dời cập nhật Windows, quét virus, sao lưu ra ngoài giờ làm việc; ổ HDD cũ: thay SSD',
              en: 'which program reads/writes the disk (Task Manager → Disk); move Windows Update, antivirus scans and backups out of working hours; old HDD: replace with an SSD',
            },
          }),
        );
      }
    }
    return out;
  },
};
