import type { AgeClass, Hardware } from './report-model.js';

/**
 * Hardware facts from a PC's inventory (contract InventoryMessage): the CPU's launch year
 * from its model name (Intel Core generations, Ryzen series, older Pentium/Celeron/Core 2
 * families), its age class at the report month, RAM, the system disk's type and whether
 * the OS still gets security updates. Unknown models give `unknown`, never a guess.
 */

/** Launch year of Intel Core i3/i5/i7/i9 generation N (the model number's leading digits). */
const INTEL_CORE_GEN_YEAR: Record<number, number> = {
  1: 2010,
  2: 2011,
  3: 2012,
  4: 2013,
  5: 2015,
  6: 2015,
  7: 2017,
  8: 2017,
  9: 2018,
  10: 2019,
  11: 2020,
  12: 2021,
  13: 2022,
  14: 2023,
};
/** Launch year of AMD Ryzen desktop/mobile series N (model number's first digit). */
const RYZEN_SERIES_YEAR: Record<number, number> = { 1: 2017, 2: 2018, 3: 2019, 4: 2020, 5: 2021, 6: 2022, 7: 2023, 8: 2024, 9: 2024 };

/** Best-known launch year of a CPU model name, or null. */
export function cpuLaunchYear(brand: string): number | null {
  const b = brand.replace(/\(r\)|\(tm\)|®|™/gi, ' ');
  let m = /\bCore\s*(?:\(TM\)\s*)?i[3579][\s-]+(\d{4,5})[A-Z]*/i.exec(b) ?? /\bi[3579]-(\d{4,5})/i.exec(b);
  if (m) {
    const digits = m[1]!;
    // i5-650 style (first generation) has three digits and is not matched here.
    const gen = digits.length === 5 ? Number(digits.slice(0, 2)) : Number(digits[0]);
    return INTEL_CORE_GEN_YEAR[gen] ?? null;
  }
  if (/\bCore\s*i[3579][\s-]+\d{3}[A-Z]*\b/i.test(b)) return 2010;
  if (/\bCore\s*Ultra\b/i.test(b)) return 2023;
  if (/\bCore\s*2\b|\bPentium\s*(?:D|4|Dual)\b|\bCeleron\s*(?:D|E\d{4})\b|\bAthlon\s*64\b/i.test(b)) return 2007;
  m = /\bRyzen\s*\d\s*(?:PRO\s*)?(\d)\d{3}/i.exec(b);
  if (m) return RYZEN_SERIES_YEAR[Number(m[1])] ?? null;
  m = /\b(?:Pentium|Celeron)\s*(?:CPU\s*)?G(\d)\d{2,3}/i.exec(b);
  if (m) {
    // G6xx/G8xx Sandy Bridge 2011, G2xxx/G3xxx 2013-14, G4xxx 2015-16, G5xxx 2018, G6xxx 2020.
    const series = Number(m[1]);
    return ({ 6: 2011, 8: 2011, 1: 2012, 2: 2013, 3: 2014, 4: 2016, 5: 2018 } as Record<number, number>)[series] ?? null;
  }
  return null;
}

/** Age class at `year`: old ≥ 8 years, ageing 5–7, recent < 5. */
export function ageClass(launchYear: number | null, year: number): AgeClass {
  if (launchYear === null) return 'unknown';
  const age = year - launchYear;
  if (age >= 8) return 'old';
  if (age >= 5) return 'ageing';
  return 'recent';
}

/** Windows 10 22H2 ended extended (ESU) support on 13 Oct 2026; earlier releases long before. */
const WINDOWS_10_END = Date.UTC(2026, 9, 14);

/** Whether the OS receives security updates at `when`; null when we cannot tell. */
export function osSupported(distro: string, release: string, when: number): boolean | null {
  const d = `${distro} ${release}`;
  if (/windows\s*(xp|vista|7|8(\.1)?)\b/i.test(d)) return false;
  if (/windows\s*10\b/i.test(d)) return when < WINDOWS_10_END;
  if (/windows\s*11\b/i.test(d)) return true;
  return null;
}

const GB = 1024 ** 3;

/** Hardware summary from the stored inventory data (null when the data is not usable). */
export function hardwareOf(data: Record<string, unknown> | undefined, year: number, when: number): Hardware | null {
  if (!data) return null;
  const cpu = (data.cpu ?? {}) as { manufacturer?: unknown; brand?: unknown; cores?: unknown };
  const os = (data.os ?? {}) as { distro?: unknown; release?: unknown; platform?: unknown };
  const disks = Array.isArray(data.disks) ? (data.disks as Array<{ type?: unknown }>) : [];
  const brand = [cpu.manufacturer, cpu.brand]
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
    .join(' ')
    .trim();
  const cpuYear = cpuLaunchYear(brand);
  const distro = typeof os.distro === 'string' ? os.distro : '';
  const release = typeof os.release === 'string' ? os.release : '';
  const t = disks[0]?.type;
  return {
    cpu: brand || '?',
    cores: typeof cpu.cores === 'number' ? cpu.cores : null,
    cpuYear,
    ageClass: ageClass(cpuYear, year),
    ramGb: typeof data.memTotal === 'number' ? Math.round((data.memTotal / GB) * 10) / 10 : null,
    diskType: t === 'HDD' || t === 'SSD' || t === 'NVMe' ? t : 'unknown',
    os: [distro, release].filter(Boolean).join(' ') || (typeof os.platform === 'string' ? os.platform : '?'),
    osSupported: osSupported(distro, release, when),
  };
}
