/**
 * Email through a real SMTP server started by the test (the `smtp-server` library) with a
 * certificate made for the test (openssl): STARTTLS with authentication (the server refuses
 * AUTH before TLS), implicit TLS, the certificate verified against the configured CA; the
 * subject and the Vietnamese UTF-8 body decoded from the received MIME; several alerts of
 * a site in one mail; SMTP 4xx retried, 5xx recorded as failed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/clock.js';
import { silentLogger } from '../../common/log.js';
import { MetricsRegistry } from '../../common/metrics-registry.js';
import { NotifyConfigSchema } from '../../collector/notify/config.js';
import { NotifyService } from '../../collector/notify/notify-service.js';
import { openDatabase, type SqliteDatabase } from '../../collector/store/sqlite-store.js';
import { congestionAlert, notification } from '../helpers/notifications.js';
import { waitFor } from '../helpers/wait.js';

interface Received {
  raw: string;
  secure: boolean;
  user: string | undefined;
  from: string;
  to: string[];
}

/** RFC 2047 encoded words (B and Q), after unfolding. */
function decodeHeader(v: string): string {
  return v.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _cs: string, enc: string, data: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(
          data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

function parseMail(raw: string): { headers: Record<string, string>; parts: Record<string, string> } {
  const [head, ...rest] = raw.split(/\r\n\r\n/);
  const headers: Record<string, string> = {};
  for (const line of head!.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = rest.join('\r\n\r\n');
  const boundary = /boundary="?([^";]+)"?/.exec(headers['content-type'] ?? '')?.[1];
  const parts: Record<string, string> = {};
  const chunks = boundary ? body.split(`--${boundary}`).slice(1, -1) : [`${head}\r\n\r\n${body}`];
  for (const c of chunks) {
    const [ph, ...pb] = c.replace(/^\r\n/, '').split(/\r\n\r\n/);
    const h = ph!.replace(/\r\n[ \t]+/g, ' ').toLowerCase();
    const type = /content-type:\s*([^;\r\n]+)/.exec(h)?.[1] ?? 'text/plain';
    const enc = /content-transfer-encoding:\s*(\S+)/.exec(h)?.[1] ?? '7bit';
    const data = pb.join('\r\n\r\n');
    parts[type] = enc === 'base64' ? Buffer.from(data.replace(/\s+/g, ''), 'base64').toString('utf8') : data;
  }
  return { headers, parts };
}

describe('email notifier against a real SMTP server', () => {
  let certDir: string;
  let key: Buffer;
  let cert: Buffer;
  let dir: string;
  let db: SqliteDatabase;
  let received: Received[];
  let servers: SMTPServer[];
  let dataFaults: number[];
  const services: NotifyService[] = [];

  beforeAll(() => {
    certDir = mkdtempSync(join(tmpdir(), 'canh-smtp-cert-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=IP:127.0.0.1,DNS:localhost',
          '-keyout',
          join(certDir, 'key.pem'),
          '-out',
          join(certDir, 'cert.pem'),
        ],
        { stdio: 'pipe' },
      );
    } catch (err) {
      throw new Error(`this test needs openssl to make a test certificate (apt-get install openssl): ${(err as Error).message}`, { cause: err });
    }
    key = readFileSync(join(certDir, 'key.pem'));
    cert = readFileSync(join(certDir, 'cert.pem'));
  });
  afterAll(() => rmSync(certDir, { recursive: true, force: true }));

  async function smtp(opts: Partial<SMTPServerOptions>): Promise<number> {
    const server = new SMTPServer({
      key,
      cert,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === 'canh@xa.gov.vn' && auth.password === 'mật-khẩu-smtp') cb(null, { user: auth.username });
        else cb(new Error('Invalid username or password'));
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const fault = dataFaults.shift();
          if (fault) {
            const err = Object.assign(new Error(fault >= 500 ? 'Message rejected' : 'Try again later'), { responseCode: fault });
            return cb(err);
          }
          received.push({
            raw: Buffer.concat(chunks).toString('utf8'),
            secure: session.secure,
            user: session.user as string | undefined,
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          });
          cb();
        });
      },
      ...opts,
    });
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return (server.server.address() as AddressInfo).port;
  }

  function service(channel: Record<string, unknown>, maxAttempts = 10): NotifyService {
    const cfg = NotifyConfigSchema.parse({
      channels: [
        {
          type: 'email',
          name: 'email',
          host: '127.0.0.1',
          from: 'Canh <canh@xa.gov.vn>',
          to: ['it@huyen.gov.vn', 'truong-phong@huyen.gov.vn'],
          username: 'canh@xa.gov.vn',
          password: 'mật-khẩu-smtp',
          timeoutMs: 3000,
          tls: { caFile: join(certDir, 'cert.pem') },
          ...channel,
        },
      ],
      retry: { minDelayMs: 20, maxDelayMs: 100, maxAttempts },
    });
    const s = new NotifyService(cfg, { db, clock: systemClock, log: silentLogger(), metrics: new MetricsRegistry() });
    services.push(s);
    return s;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'canh-email-'));
    db = openDatabase(join(dir, 'canh.db'));
    received = [];
    servers = [];
    dataFaults = [];
  });
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('STARTTLS + auth: one mail for the site with both alerts, UTF-8 subject and Vietnamese body', async () => {
    const port = await smtp({ secure: false, allowInsecureAuth: false });
    const s = service({ port, security: 'starttls' });
    s.start();
    s.enqueue(notification('n1'));
    await waitFor(() => s.outbox.deliveriesOf('n1')[0]?.state === 'sent', { what: 'mail delivered' });
    expect(received).toHaveLength(1);
    const m = received[0]!;
    expect(m.secure).toBe(true); // upgraded with STARTTLS before AUTH and DATA
    expect(m.user).toBe('canh@xa.gov.vn');
    expect(m.from).toBe('canh@xa.gov.vn');
    expect(m.to).toEqual(['it@huyen.gov.vn', 'truong-phong@huyen.gov.vn']);
    const mail = parseMail(m.raw);
    expect(decodeHeader(mail.headers.subject!)).toBe('[CẢNH BÁO] UBND xã Tân Phú: Ổ đĩa C: sắp đầy (97%) (+1)');
    expect(mail.headers['content-type']).toMatch(/^multipart\/alternative/);
    const text = mail.parts['text/plain']!;
    expect(mail.headers['message-id']).toMatch(/^<canh\.[0-9a-f]{32}@xa\.gov\.vn>$/);
    // Both alerts of the site in this one mail, in Vietnamese with diacritics.
    expect(text).toContain('Đang xảy ra (2):');
    expect(text).toContain('🔴 NGHIÊM TRỌNG · Ổ đĩa C: sắp đầy (97%)');
    expect(text).toContain('🟠 CẢNH BÁO · Mạng chậm giờ cao điểm: mất 31% gói tin tới cổng dịch vụ công');
    expect(text).toContain('Cần kiểm tra: Xoá tệp tạm, dọn thư mục Tải về.');
    const html = mail.parts['text/html']!;
    expect(html).toContain('<h3 style="margin:12px 0 4px">Đang xảy ra (2):</h3>');
    expect(html).toContain('Máy: pc-mot-cua-01');
  });

  it('implicit TLS (port 465 style): resolved mail with [ĐÃ KHẮC PHỤC]', async () => {
    const port = await smtp({ secure: true });
    const s = service({ port, security: 'tls' });
    s.start();
    s.enqueue(notification('r1', { firing: [], resolved: [congestionAlert({ endsAt: Date.UTC(2026, 10, 24, 2, 0) })] }));
    await waitFor(() => s.outbox.deliveriesOf('r1')[0]?.state === 'sent', { what: 'mail delivered' });
    expect(received[0]!.secure).toBe(true);
    const mail = parseMail(received[0]!.raw);
    expect(decodeHeader(mail.headers.subject!)).toBe('[ĐÃ KHẮC PHỤC] UBND xã Tân Phú: Mạng chậm giờ cao điểm: mất 31% gói tin tới cổng dịch vụ công');
    expect(mail.parts['text/plain']).toContain('Từ 08:15 24/11/2026 đến 09:00 24/11/2026 (kéo dài 45 phút)');
  });

  it('a certificate that does not match the configured CA is refused (retried, never sent in clear)', async () => {
    const port = await smtp({ secure: false });
    const s = service({ port, security: 'starttls', tls: { rejectUnauthorized: true } }, 2);
    s.start();
    s.enqueue(notification('n1'));
    await waitFor(() => s.outbox.deliveriesOf('n1')[0]?.state === 'failed', { what: 'give-up' });
    expect(received).toHaveLength(0);
    expect(s.outbox.deliveriesOf('n1')[0]!.lastError).toMatch(/last error: smtp_(ETLS|ESOCKET|ECONNECTION)/);
  });

  it('SMTP 451 is retried and the mail arrives once; 550 is a permanent failure, recorded', async () => {
    const port = await smtp({ secure: false });
    dataFaults = [451];
    const s = service({ port, security: 'starttls' });
    s.start();
    s.enqueue(notification('n1'));
    await waitFor(() => s.outbox.deliveriesOf('n1')[0]?.state === 'sent', { what: 'delivered after 451' });
    expect(received).toHaveLength(1);
    expect(s.outbox.deliveriesOf('n1')[0]!.attempts).toBe(2);
    dataFaults = [550];
    s.enqueue(notification('n2'));
    await waitFor(() => s.outbox.deliveriesOf('n2')[0]?.state === 'failed', { what: 'permanent failure' });
    expect(s.outbox.deliveriesOf('n2')[0]!.lastError).toBe('permanent: smtp_550');
    expect(received).toHaveLength(1);
  });
});
