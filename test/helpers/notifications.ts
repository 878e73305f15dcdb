import type { Notification, NotificationAlert } from '../../collector/notify/notification.js';

/** A realistic alert of a commune site (peak-hour congestion), for notifier tests. */
export function congestionAlert(over: Partial<NotificationAlert> = {}): NotificationAlert {
  return {
    fingerprint: 'site_congestion:tan-phu',
    rule: 'site_congestion',
    severity: 'warning',
    site: 'tan-phu',
    host: null,
    startsAt: Date.UTC(2026, 10, 24, 1, 15), // 08:15 in Hồ Chí Minh
    endsAt: null,
    summary: { vi: 'Mạng chậm giờ cao điểm: mất 31% gói tin tới cổng dịch vụ công', en: 'Peak-hour congestion: 31% packet loss to the public-service portal' },
    description: {
      vi: 'Độ trễ p95 tới dichvucong.gov.vn 850 ms, gấp 6 lần bình thường, kéo dài hơn 10 phút trong giờ làm việc.',
      en: 'p95 latency to dichvucong.gov.vn 850 ms, 6 times normal, for more than 10 minutes in working hours.',
    },
    advice: {
      vi: 'Kiểm tra modem và đường truyền của nhà mạng; hỏi xem có ai đang tải tệp lớn.',
      en: 'Check the modem and the ISP line; ask whether someone is downloading large files.',
    },
    values: [
      { key: 'loss_pct', label: { vi: 'Mất gói', en: 'Packet loss' }, value: 31.2, unit: '%', normal: 0.5, limit: 5 },
      { key: 'latency_p95_ms', label: { vi: 'Độ trễ p95', en: 'p95 latency' }, value: 850, unit: 'ms', normal: 140, limit: 400 },
    ],
    ...over,
  };
}

export function diskAlert(over: Partial<NotificationAlert> = {}): NotificationAlert {
  return {
    fingerprint: 'host_disk_full:tan-phu:pc-mot-cua-01:C:',
    rule: 'host_disk_full',
    severity: 'critical',
    site: 'tan-phu',
    host: 'pc-mot-cua-01',
    startsAt: Date.UTC(2026, 10, 24, 0, 40),
    endsAt: null,
    summary: { vi: 'Ổ đĩa C: sắp đầy (97%)', en: 'Disk C: nearly full (97%)' },
    description: { vi: 'Còn trống 1,4 GB trên 50 GB.', en: '1.4 GB free of 50 GB.' },
    advice: { vi: 'Xoá tệp tạm, dọn thư mục Tải về.', en: 'Delete temporary files, clean the Downloads folder.' },
    values: [{ key: 'disk_used_pct', label: { vi: 'Đã dùng', en: 'Used' }, value: 97, unit: '%', limit: 90 }],
    ...over,
  };
}

export function notification(id: string, over: Partial<Notification> = {}): Notification {
  return {
    id,
    site: 'tan-phu',
    siteName: 'UBND xã Tân Phú',
    createdAt: Date.UTC(2026, 10, 24, 1, 30),
    firing: [congestionAlert(), diskAlert()],
    resolved: [],
    ...over,
  };
}
