import type { RenderedMessage } from './notifier.js';
import type { ProvinceDigest, ProvinceSiteCause } from './province-message.js';
import { escapeHtml, formatTime, numberFormats, words, type RenderOptions } from './render-words.js';

/** Site names a province text lists; the rest are counted ("… và 12 điểm khác"). */
export const PROVINCE_NAMES_SHOWN = 20;

interface ProvinceWords {
  tag: string;
  summaryTag: string;
  updateTag: string;
  title: (down: number, total: number) => string;
  summaryTitle: (back: number, down: number) => string;
  span: (from: string, to: string, down: number, total: number, pct: string) => string;
  causes: string;
  cause: Record<ProvinceSiteCause, string>;
  backSoFar: (back: number, down: number) => string;
  sites: string;
  andMore: (n: number) => string;
  perSite: string;
  board: (url: string | undefined) => string;
  waveOf: (from: string, down: number, total: number) => string;
  allBack: (down: number, median: string, longest: string) => string;
  someBack: (back: number, down: number, median: string, longest: string) => string;
  noneBack: (down: number) => string;
  stillOut: (n: number) => string;
  lastUpdate: string;
}

const PROVINCE_VI: ProvinceWords = {
  tag: '[SỰ CỐ DIỆN RỘNG]',
  summaryTag: '[SỰ CỐ DIỆN RỘNG – TỔNG KẾT]',
  updateTag: '[SỰ CỐ DIỆN RỘNG – CẬP NHẬT]',
  title: (d, t) => `${d}/${t} điểm mất kết nối cùng lúc`,
  summaryTitle: (b, d) => `${b}/${d} điểm đã có kết nối trở lại`,
  span: (f, t, d, n, p) => `${f === t ? `Lúc ${f}` : `Từ ${f} đến ${t}`}, ${d} trong ${n} điểm có máy giám sát (${p}) ngừng gửi dữ liệu.`,
  causes: 'Nguyên nhân đến lúc này',
  cause: { power_cut: 'mất điện', network_cut: 'mất mạng', mixed: 'mất điện và mất mạng', unknown: 'chưa rõ nguyên nhân', pending: 'đang xác định nguyên nhân' },
  backSoFar: (b, d) => `Đã có kết nối trở lại: ${b}/${d} điểm.`,
  sites: 'Các điểm',
  andMore: (n) => `… và ${n} điểm khác`,
  perSite: 'Mỗi điểm vẫn có tin nhắn riêng khi xác định được nguyên nhân và khi khắc phục.',
  board: (url) => (url ? `Xem chi tiết trên bảng theo dõi Canh: ${url}` : 'Xem chi tiết trên bảng theo dõi Canh (trang Tổng quan và Cảnh báo).'),
  waveOf: (f, d, n) => `Đợt sự cố từ ${f}: ${d} trong ${n} điểm mất kết nối.`,
  allBack: (d, m, l) => `Cả ${d} điểm đã có kết nối trở lại, sau ${m} (trung vị), lâu nhất ${l}.`,
  someBack: (b, d, m, l) => `${b}/${d} điểm đã có kết nối trở lại, sau ${m} (trung vị), lâu nhất ${l}.`,
  noneBack: (d) => `Chưa điểm nào trong ${d} điểm có kết nối trở lại.`,
  stillOut: (n) => `Còn ${n} điểm chưa có kết nối`,
  lastUpdate: 'Đây là tin tổng hợp cuối cùng của đợt này.',
};

const PROVINCE_EN: ProvinceWords = {
  tag: '[WIDESPREAD OUTAGE]',
  summaryTag: '[WIDESPREAD OUTAGE – SUMMARY]',
  updateTag: '[WIDESPREAD OUTAGE – UPDATE]',
  title: (d, t) => `${d}/${t} sites offline at once`,
  summaryTitle: (b, d) => `${b}/${d} sites back online`,
  span: (f, t, d, n, p) => `${f === t ? `At ${f}` : `From ${f} to ${t}`}, ${d} of ${n} monitored sites (${p}) stopped reporting.`,
  causes: 'Causes so far',
  cause: { power_cut: 'power cut', network_cut: 'network cut', mixed: 'power and network cut', unknown: 'cause unknown', pending: 'cause being determined' },
  backSoFar: (b, d) => `Back online: ${b}/${d} sites.`,
  sites: 'Sites',
  andMore: (n) => `… and ${n} more`,
  perSite: 'Each site still gets its own messages when its cause is known and when it is back.',
  board: (url) => (url ? `Details on the Canh board: ${url}` : 'Details on the Canh board (Overview and Alerts pages).'),
  waveOf: (f, d, n) => `Outage wave from ${f}: ${d} of ${n} sites went offline.`,
  allBack: (d, m, l) => `All ${d} sites are back online, after ${m} (median), longest ${l}.`,
  someBack: (b, d, m, l) => `${b}/${d} sites are back online, after ${m} (median), longest ${l}.`,
  noneBack: (d) => `None of the ${d} sites is back online yet.`,
  stillOut: (n) => `${n} site${n === 1 ? '' : 's'} still offline`,
  lastUpdate: 'This is the last summary of this wave.',
};

function provinceNames(sites: ProvinceDigest['sites'], total: number, w: ProvinceWords): string {
  const shown = sites.slice(0, PROVINCE_NAMES_SHOWN).map((s) => s.name || s.site);
  const rest = total - shown.length;
  return `${shown.join(', ')}${rest > 0 ? ` ${w.andMore(rest)}` : ''}`;
}

/**
 * A province digest (province-message.ts): how many sites of how many, which, causes so
 * far, the span, a pointer to the board; the summary says how many came back and after how
 * long, and says "all" only when every site of the wave is back.
 */
export function renderProvince(d: ProvinceDigest, o: RenderOptions): Omit<RenderedMessage, 'message'> {
  const lang = o.language;
  const w = lang === 'en' ? PROVINCE_EN : PROVINCE_VI;
  const dur = words(lang).duration;
  const causes = (['power_cut', 'network_cut', 'mixed', 'unknown', 'pending'] as const)
    .filter((c) => d.causes[c] > 0 || c === 'power_cut' || c === 'network_cut' || c === 'pending')
    .map((c) => `${w.cause[c]}: ${d.causes[c]}`)
    .join(' · ');
  const paragraphs: string[] = [];
  let subject: string;
  if (d.phase === 'wave') {
    subject = `${w.tag} ${w.title(d.sitesInWave, d.sitesTotal)}`;
    const pct = `${numberFormats[lang].format(d.sitesTotal ? (100 * d.sitesInWave) / d.sitesTotal : 0)}%`;
    paragraphs.push(subject);
    paragraphs.push(
      [
        w.span(formatTime(d.waveStart, o.timeZone), formatTime(d.lastDrop, o.timeZone), d.sitesInWave, d.sitesTotal, pct),
        `${w.causes}: ${causes}`,
        w.backSoFar(d.sitesBack, d.sitesInWave),
      ].join('\n'),
    );
    paragraphs.push(`${w.sites}: ${provinceNames(d.sites, d.sitesInWave, w)}`);
    paragraphs.push(`${w.perSite}\n${w.board(d.boardUrl)}`);
  } else {
    const all = d.sitesBack === d.sitesInWave;
    subject = `${all ? w.summaryTag : w.updateTag} ${w.summaryTitle(d.sitesBack, d.sitesInWave)}`;
    paragraphs.push(subject);
    const m = d.backMedianMs !== null ? dur(d.backMedianMs) : '';
    const l = d.backLongestMs !== null ? dur(d.backLongestMs) : '';
    const lines = [
      w.waveOf(formatTime(d.waveStart, o.timeZone), d.sitesInWave, d.sitesTotal),
      d.sitesBack === 0 ? w.noneBack(d.sitesInWave) : all ? w.allBack(d.sitesInWave, m, l) : w.someBack(d.sitesBack, d.sitesInWave, m, l),
      `${w.causes}: ${causes}`,
    ];
    paragraphs.push(lines.join('\n'));
    if (!all) {
      const out = d.sites.filter((s) => s.backAt === null);
      // Sites beyond the listed ones are counted as still out: never claim more came back than seen.
      paragraphs.push(`${w.stillOut(d.sitesInWave - d.sitesBack)}: ${provinceNames(out, d.sitesInWave - d.sitesBack, w)}`);
    }
    paragraphs.push(`${w.lastUpdate} ${w.perSite}\n${w.board(d.boardUrl)}`);
  }
  paragraphs.push(`— ${words(lang).footer}, ${formatTime(d.createdAt, o.timeZone)}`);
  const html = [
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    `<body style="font-family:Arial,sans-serif;font-size:14px"><h2>${escapeHtml(subject)}</h2>`,
    ...paragraphs.slice(1).map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`),
    `</body></html>`,
  ].join('\n');
  return { language: lang, subject, text: paragraphs.join('\n\n'), html };
}
