/**
 * Under-spec hardware from a host's inventory (DESIGN "Host health that slows TTHC work":
 * under-spec hardware — RAM, HDD, CPU age). Heuristics, documented in docs/api.md:
 * - RAM below 4 GiB (Windows 10/11 plus a browser-based TTHC system page in);
 * - the system disk (the first disk the OS lists) is a spinning HDD;
 * - an old CPU: Intel Core i3/i5/i7/i9 before the 6th generation (model number 2xxx-5xxx,
 *   2015 and older), Core 2 / Pentium D / Pentium Dual-Core / Atom, Celeron and Pentium
 *   of the G1xxx-G3xxx / Nxxxx / Jxxxx lines, AMD Athlon (II/64), Phenom, FX, Sempron,
 *   Turion and A4-A10 APUs; or fewer than 2 cores.
 * Reasons are in Vietnamese or English (`lang`).
 */

export interface UnderSpec {
  flag: boolean;
  reasons: string[];
}

export const MIN_RAM_BYTES = 4 * 1024 ** 3;

const OLD_CPU: RegExp[] = [
  /\bcore\s*(?:\(tm\)\s*)?2\b/i,
  /\bpentium\s*(?:\(r\)\s*)?(?:d|dual[- ]core|4|m)\b/i,
  /\batom\b/i,
  /\b(?:celeron|pentium)\s*(?:\(r\)\s*)?(?:cpu\s*)?(?:g[1-3]\d{3}|[nj]\d{4}|\d{3,4}[a-z]?)\b/i,
  /\bathlon\b/i,
  /\bphenom\b/i,
  /\bsempron\b/i,
  /\bturion\b/i,
  /\bamd\s+fx\b/i,
  /\bA(?:4|6|8|10)-\d{4}/i,
];

/** Intel Core iN generation from the model number (i5-3470 → 3, i7-10700 → 10), else undefined. */
export function intelCoreGeneration(brand: string): number | undefined {
  const m = /\bi[3579][- ](\d{4,5})[a-z]*\b/i.exec(brand);
  if (!m) return undefined;
  const num = m[1]!;
  return num.length === 5 ? Number(num.slice(0, 2)) : Number(num[0]);
}

export function isOldCpu(brand: string): boolean {
  const gen = intelCoreGeneration(brand);
  if (gen !== undefined) return gen < 6;
  return OLD_CPU.some((re) => re.test(brand));
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function underSpec(inventory: Record<string, unknown> | null | undefined, lang: 'vi' | 'en' = 'vi'): UnderSpec {
  if (!inventory) return { flag: false, reasons: [] };
  const vi = lang === 'vi';
  const reasons: string[] = [];
  const mem = num(inventory.memTotal);
  if (mem !== undefined && mem > 0 && mem < MIN_RAM_BYTES) {
    const gib = (mem / 1024 ** 3).toFixed(1);
    // "GB" as on the board and in Windows (1 GB = 1024³ bytes): one unit convention (issue 13 item 7).
    reasons.push(vi ? `RAM ${gib} GB (dưới 4 GB)` : `RAM ${gib} GB (below 4 GB)`);
  }
  const disks = Array.isArray(inventory.disks) ? (inventory.disks as Array<Record<string, unknown>>) : [];
  if (disks[0] && disks[0].type === 'HDD') reasons.push(vi ? 'Ổ hệ thống là HDD (ổ cứng cơ, chậm)' : 'System disk is an HDD (slow)');
  const cpu = (inventory.cpu ?? {}) as Record<string, unknown>;
  const brand = `${str(cpu.manufacturer)} ${str(cpu.brand)}`.trim();
  if (brand && isOldCpu(brand)) reasons.push(vi ? `CPU đời cũ: ${str(cpu.brand)}` : `Old CPU: ${str(cpu.brand)}`);
  const cores = num(cpu.cores);
  if (cores !== undefined && cores > 0 && cores < 2) reasons.push(vi ? 'CPU chỉ có 1 nhân' : 'Single-core CPU');
  return { flag: reasons.length > 0, reasons };
}
