import { z } from 'zod';
import { both, num } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/**
 * Memory pressure (issue 17): programs wait for memory, not merely "RAM is full" (a full RAM
 * of cache is healthy; memory_saturation watches that). Fires when, averaged over
 * `windowSeconds`, Linux PSI memory `some` ≥ `psiSomePct`, or pages swapped / paged in
 * ≥ `swapInPs`, or hard page faults ≥ `hardFaultsPs` (Windows: Pages Input/sec and Page
 * Reads/sec, as Windows has no PSI); held for `forSeconds`, in working hours. Recovers when
 * every figure is under `recoveryRatio` × its threshold. Needs agents that send `pressure`.
 */
const Params = z
  .object({
    ...commonParams({ forSeconds: 300, schedule: 'working_hours', severity: 'warning' }),
    windowSeconds: z.number().min(30).max(1800).default(300),
    /** PSI `some avg10`, %: share of time some task stalled on memory. */
    psiSomePct: z.number().min(0.1).max(100).default(10),
    /** Pages swapped / paged in per second (4 KiB pages: 200/s ≈ 0.8 MB/s read back from disk all the time). */
    swapInPs: z.number().min(1).max(1_000_000).default(200),
    /** Hard (major) faults per second. */
    hardFaultsPs: z.number().min(1).max(1_000_000).default(150),
    recoveryRatio: z.number().min(0.05).max(0.95).default(0.5),
  })
  .strict();
type Params = z.output<typeof Params> & CommonParams;

export const memoryPressure: AlertRule<Params> = {
  name: 'memory_pressure',
  description: { vi: 'Thiếu RAM: máy phải dùng ổ cứng thay bộ nhớ (phân trang, swap)', en: 'Memory pressure: paging / swapping (PSI, hard faults)' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    const from = ctx.now - p.windowSeconds * 1000;
    for (const site of ctx.sites) {
      for (const h of site.hosts) {
        const w = ctx.window(site.site, h.host, from);
        const some = w.mean('memSome');
        const swapIn = w.mean('swapInPs');
        const faults = w.mean('hardFaultsPs');
        if (some === null && swapIn === null && faults === null) continue;
        // Each figure as a share of its threshold: ≥ 1 fires, all < recoveryRatio recovers.
        const ratios = [some === null ? 0 : some / p.psiSomePct, swapIn === null ? 0 : swapIn / p.swapInPs, faults === null ? 0 : faults / p.hardFaultsPs];
        const worst = Math.max(...ratios);
        const min = Math.round(p.windowSeconds / 60);
        out.push(
          observe(this.name, p, {
            site: site.site,
            host: h.host,
            condition: worst >= 1 ? 'firing' : worst < p.recoveryRatio ? 'recovered' : 'hold',
            // The figure nearest (or furthest over) its threshold.
            value: Number(([some, swapIn, faults][ratios.indexOf(worst)] ?? 0).toFixed(1)),
            summary: both((lang) => {
              const parts: string[] = [];
              if (lang === 'vi') {
                if (some !== null) parts.push(`chờ bộ nhớ ${num(some, lang)}% thời gian (PSI, ngưỡng ${p.psiSomePct}%)`);
                if (swapIn !== null) parts.push(`đọc lại ${num(swapIn, lang, 0)} trang/giây từ ổ cứng (ngưỡng ${p.swapInPs})`);
                if (faults !== null) parts.push(`${num(faults, lang, 0)} lỗi trang cứng/giây (ngưỡng ${p.hardFaultsPs})`);
                return `Thiếu RAM trung bình ${min} phút: ${parts.join('; ')}. Máy phải dùng ổ cứng thay RAM nên chậm, dễ treo`;
              }
              if (some !== null) parts.push(`stalled on memory ${num(some, lang)}% of the time (PSI, limit ${p.psiSomePct}%)`);
              if (swapIn !== null) parts.push(`${num(swapIn, lang, 0)} pages/s read back from disk (limit ${p.swapInPs})`);
              if (faults !== null) parts.push(`${num(faults, lang, 0)} hard faults/s (limit ${p.hardFaultsPs})`);
              return `Memory pressure over ${min} min: ${parts.join('; ')}. The PC uses its disk as RAM: slow, prone to hang`;
            }),
            hint: {
              vi: 'đóng bớt tab trình duyệt và chương trình không dùng; gỡ phần mềm chạy nền thừa; nâng RAM (máy 4 GB nên lên 8 GB)',
              en: 'close unused browser tabs and programs; remove needless background software; add RAM (4 GB PCs: go to 8 GB)',
            },
          }),
        );
      }
    }
    return out;
  },
};
