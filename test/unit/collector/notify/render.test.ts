/**
 * Channel texts: Vietnamese by default with diacritics, English optional; site, what,
 * since when, how bad vs normal, what to check; escaped HTML; Zalo's 2,000-character cut.
 */
import { describe, expect, it } from 'vitest';
import { NotificationSchema } from '../../../../collector/notify/notification.js';
import { render } from '../../../../collector/notify/render.js';
import { formatTime } from '../../../../collector/notify/render-words.js';
import { splitText } from '../../../../collector/notify/split-text.js';
import { congestionAlert, diskAlert, notification } from '../../../helpers/notifications.js';

const TZ = 'Asia/Ho_Chi_Minh';
const msg = (n = notification('n1')) => ({ kind: 'alert' as const, notification: NotificationSchema.parse(n) });

describe('notification texts', () => {
  it('Vietnamese: subject, site, what, since when, how bad vs normal, what to check', () => {
    const r = render(msg(), { language: 'vi', timeZone: TZ });
    // Critical first in the subject; the other alert counted.
    expect(r.subject).toBe('[CẢNH BÁO] UBND xã Tân Phú: Ổ đĩa C: sắp đầy (97%) (+1)');
    expect(r.text).toContain('[CẢNH BÁO] UBND xã Tân Phú (tan-phu)');
    expect(r.text).toContain('Đang xảy ra (2):');
    expect(r.text).toContain('🔴 NGHIÊM TRỌNG · Ổ đĩa C: sắp đầy (97%)\nMáy: pc-mot-cua-01\nTừ: 07:40 24/11/2026 (đã 50 phút)');
    expect(r.text).toContain('🟠 CẢNH BÁO · Mạng chậm giờ cao điểm: mất 31% gói tin tới cổng dịch vụ công\nPhạm vi: toàn điểm\nTừ: 08:15 24/11/2026 (đã 15 phút)');
    // Vietnamese number format (decimal comma), normal and limit.
    expect(r.text).toContain('Số liệu: Mất gói 31,2% (bình thường 0,5%, ngưỡng 5%); Độ trễ p95 850 ms (bình thường 140 ms, ngưỡng 400 ms)');
    expect(r.text).toContain('Cần kiểm tra: Kiểm tra modem và đường truyền của nhà mạng');
    expect(r.text.indexOf('Ổ đĩa C')).toBeLessThan(r.text.indexOf('Mạng chậm'));
  });

  it('resolved: [ĐÃ KHẮC PHỤC] with start, end and duration', () => {
    const n = notification('n2', { firing: [], resolved: [congestionAlert({ endsAt: Date.UTC(2026, 10, 24, 2, 5) })] });
    const r = render(msg(n), { language: 'vi', timeZone: TZ });
    expect(r.subject).toBe('[ĐÃ KHẮC PHỤC] UBND xã Tân Phú: Mạng chậm giờ cao điểm: mất 31% gói tin tới cổng dịch vụ công');
    expect(r.text).toContain('Đã khắc phục (1):');
    expect(r.text).toContain('Từ 08:15 24/11/2026 đến 09:05 24/11/2026 (kéo dài 50 phút)');
  });

  it('English when the channel asks for it', () => {
    const r = render(msg(), { language: 'en', timeZone: TZ });
    expect(r.subject).toBe('[ALERT] UBND xã Tân Phú: Disk C: nearly full (97%) (+1)');
    expect(r.text).toContain('Figures: Packet loss 31.2% (normal 0.5%, limit 5%)');
    expect(r.text).toContain('Since: 07:40 24/11/2026 (for 50 min)');
  });

  it('HTML escapes what comes from outside (host names, texts)', () => {
    const n = notification('n3', { siteName: 'Xã <b>A</b>', firing: [diskAlert({ host: '<script>x</script>' })] });
    const r = render(msg(n), { language: 'vi', timeZone: TZ });
    expect(r.html).not.toContain('<script>');
    expect(r.html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(r.html).toContain('<meta charset="utf-8">');
  });

  it('times in the configured zone across midnight', () => {
    expect(formatTime(Date.UTC(2026, 10, 24, 17, 30), TZ)).toBe('00:30 25/11/2026');
  });
});

describe('splitText (Zalo: at most 2,000 characters per message)', () => {
  const long = Array.from({ length: 40 }, (_, i) => `Đoạn ${i}: ${'mất điện ở điểm phục vụ, '.repeat(8)}`).join('\n\n');

  it('a short text is one part, unchanged', () => {
    expect(splitText('xin chào', 2000, 5, 'vi')).toEqual(['xin chào']);
  });

  it('cuts between paragraphs, numbers the parts, each within the limit, nothing lost', () => {
    const parts = splitText(long, 2000, 20, 'vi');
    expect(parts.length).toBeGreaterThan(3);
    parts.forEach((p, i) => {
      expect([...p].length).toBeLessThanOrEqual(2000);
      expect(p.startsWith(`(${i + 1}/${parts.length}) `)).toBe(true);
    });
    const joined = parts.map((p) => p.replace(/^\(\d+\/\d+\) /, '')).join('\n\n');
    expect(joined).toBe(long);
  });

  it('a paragraph or line longer than the limit is cut too', () => {
    const parts = splitText('ạ'.repeat(4500), 2000, 20, 'vi');
    expect(parts).toHaveLength(3);
    for (const p of parts) expect([...p].length).toBeLessThanOrEqual(2000);
  });

  it('beyond maxParts: summarised, with a note in Vietnamese', () => {
    const parts = splitText(long, 2000, 2, 'vi');
    expect(parts).toHaveLength(2);
    expect([...parts[1]!].length).toBeLessThanOrEqual(2000);
    expect(parts[1]).toMatch(/… còn \d+ phần nữa đã được lược bớt; xem đầy đủ trên bảng theo dõi Canh\.$/);
  });
});
