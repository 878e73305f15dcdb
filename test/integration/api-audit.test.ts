/**
 * The audit log (issue 14 item 8) against a real collector and the real CLI: logins (good
 * and bad), token create/revoke, silence create/expire, credential add/rotate/revoke from
 * the CLI, configuration changes between starts; who, when, from where; append-only; never
 * a secret; admins of every site read it as JSON or export it as CSV, nobody else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { CollectorConfigSchema } from '../../collector/config.js';
import { silentLogger } from '../../common/log.js';
import { parseCsv } from '../helpers/csv-parse.js';
import { rawRequest, type RawResponse } from '../helpers/http-request.js';
import { runCanhSync } from '../helpers/processes.js';

let dataDir: string;
let collector: Collector;
let base: string;
let admin: string;
const secrets: string[] = [];

function config(over: Record<string, unknown> = {}) {
  return CollectorConfigSchema.parse({ dataDir, broker: { embedded: { host: '127.0.0.1', port: 0 } }, http: { host: '127.0.0.1', port: 0 }, ...over });
}

function call(path: string, token: string | undefined, init: { method?: string; body?: unknown; from?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return rawRequest(`${base}${path}`, {
    method: init.method ?? 'GET',
    from: init.from,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'canh-audit-'));
  const announced: string[] = [];
  collector = await Collector.open(config(), silentLogger(), { announce: (t) => void announced.push(t) });
  await collector.start();
  base = `http://127.0.0.1:${collector.http.port()}`;
  admin = /canh_[A-Za-z0-9_-]{43}/.exec(announced.join(''))![0];
  secrets.push(admin);
});

afterAll(async () => {
  await collector?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const entries = () => collector.audit.page({ from: 0, to: Date.now() + 1, limit: 1000 }).reverse();

describe('what is recorded', () => {
  it('board logins, refused logins and logouts, with the client address', async () => {
    expect((await call('/api/auth/login', undefined, { method: 'POST', from: '127.0.0.50', body: { token: 'canh_sai-ma' } })).status).toBe(401);
    const login = await call('/api/auth/login', undefined, { method: 'POST', from: '127.0.0.51', body: { token: admin } });
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect((await call('/api/auth/logout', undefined, { method: 'POST', from: '127.0.0.51', headers: { cookie } })).status).toBe(204);
    const e = entries();
    const failed = e.find((x) => x.action === 'login_failed')!;
    expect(failed).toMatchObject({ actor: 'anonymous', via: 'board', client: '127.0.0.50' });
    const ok = e.find((x) => x.action === 'login')!;
    expect(ok).toMatchObject({ actor: 'token 1 "admin"', actorTokenId: 1, via: 'board', client: '127.0.0.51', details: { role: 'admin', sites: null } });
    expect(e.find((x) => x.action === 'logout')).toMatchObject({ actorTokenId: 1, client: '127.0.0.51' });
  });

  it('token create and revoke, silence create and expire, through the API', async () => {
    const created = await call('/api/tokens', admin, { method: 'POST', body: { name: 'Cán bộ xã A', role: 'operator', sites: ['xa-a'] } });
    expect(created.status).toBe(201);
    secrets.push(created.body.token as string);
    const op = created.body.token as string;
    const silence = await call('/api/silences', op, { method: 'POST', body: { matchers: { site: 'xa-a' }, endsAt: Date.now() + 3_600_000, comment: 'sửa mạng' } });
    expect(silence.status).toBe(201);
    expect((await call(`/api/silences/${silence.body.id}`, op, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`/api/tokens/${created.body.id}`, admin, { method: 'DELETE' })).status).toBe(204);
    const e = entries();
    expect(e.find((x) => x.action === 'token_create' && x.via === 'api')).toMatchObject({
      actorTokenId: 1,
      target: `token ${created.body.id}`,
      client: '127.0.0.1',
      details: { name: 'Cán bộ xã A', role: 'operator', sites: ['xa-a'] },
    });
    expect(e.find((x) => x.action === 'silence_create')).toMatchObject({
      actorTokenId: created.body.id,
      target: `silence ${silence.body.id}`,
      details: { matchers: { site: 'xa-a' } },
    });
    expect(e.find((x) => x.action === 'silence_expire')).toMatchObject({ actorTokenId: created.body.id, target: `silence ${silence.body.id}` });
    expect(e.find((x) => x.action === 'token_revoke')).toMatchObject({ actorTokenId: 1, target: `token ${created.body.id}` });
  });

  it('the CLI: credential add, rotate and revoke, token create and revoke', () => {
    const run = (args: string[]) => {
      const r = runCanhSync([...args, '--data-dir', dataDir]);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    const added = JSON.parse(run(['credentials', 'add', '--site', 'xa-a', '--host', 'pc-01', '--json'])) as { username: string; password: string };
    const rotated = JSON.parse(run(['credentials', 'add', '--site', 'xa-a', '--host', 'pc-01', '--rotate', '--json'])) as { password: string };
    run(['credentials', 'revoke', added.username]);
    const token = JSON.parse(run(['tokens', 'create', '--name', 'tỉnh', '--role', 'operator', '--sites', 'xa-a,xa-b', '--json'])) as { id: number; token: string; sites: string[] };
    expect(token.sites).toEqual(['xa-a', 'xa-b']);
    run(['tokens', 'revoke', String(token.id)]);
    secrets.push(added.password, rotated.password, token.token);

    const cli = entries().filter((x) => x.via === 'cli');
    expect(cli.map((x) => [x.action, x.target])).toEqual([
      ['credential_add', added.username],
      ['credential_rotate', added.username],
      ['credential_revoke', added.username],
      ['token_create', `token ${token.id}`],
      ['token_revoke', `token ${token.id}`],
    ]);
    for (const x of cli) {
      expect(x.actor).toMatch(/^cli \S+/);
      expect(x.client).toBeTruthy();
    }
    expect(cli[3]!.details).toEqual({ name: 'tỉnh', role: 'operator', sites: ['xa-a', 'xa-b'] });
  });

  it('configuration changes between starts: the sections that changed, never their values', async () => {
    expect(entries().filter((x) => x.action === 'config_change')).toHaveLength(0);
    await collector.stop();
    collector = await Collector.open(config({ api: { rateLimitPerMinute: 600 }, influx: { url: 'http://127.0.0.1:9', token: 'influx-secret-token-value' } }), silentLogger(), {
      announce: () => {},
    });
    await collector.start();
    base = `http://127.0.0.1:${collector.http.port()}`;
    const changes = entries().filter((x) => x.action === 'config_change');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ actor: 'collector', via: 'collector', details: { changed: ['api.rateLimitPerMinute', 'influx'] } });
    expect(JSON.stringify(changes)).not.toContain('influx-secret-token-value');
    expect(JSON.stringify(changes)).not.toContain('600');
  });
});

describe('the log itself', () => {
  it('is append-only', () => {
    expect(() => collector.db.prepare('UPDATE audit_log SET actor = ?').run('someone else')).toThrow(/append-only/);
    expect(() => collector.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(entries().length).toBeGreaterThan(10);
  });

  it('holds no secret: no token, password or session cookie', () => {
    const dump = JSON.stringify(collector.db.prepare('SELECT * FROM audit_log').all());
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    for (const s of secrets) expect(dump).not.toContain(s);
    expect(dump).not.toMatch(/canh_[A-Za-z0-9_-]{20,}/);
  });

  it('admins of every site read it as JSON, paged, and export it as CSV; others get 403', async () => {
    const page = await call('/api/audit?limit=3', admin);
    expect(page.status).toBe(200);
    expect(page.body.entries).toHaveLength(3);
    const next = await call(`/api/audit?limit=3&before=${page.body.next}`, admin);
    expect(next.body.entries[0].id).toBeLessThan(page.body.entries[2].id);
    const logins = await call('/api/audit?action=login', admin);
    expect((logins.body.entries as Array<{ action: string }>).every((x) => x.action === 'login')).toBe(true);

    const csv = await call('/api/audit?format=csv', admin);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="canh-audit-/);
    expect(csv.text.startsWith('\uFEFF')).toBe(true);
    const rows = parseCsv(csv.text.slice(1), ';').filter((r) => r.join('') !== '');
    expect(rows[0]).toEqual(['Mã', 'Thời điểm (UTC)', 'Hành động', 'Người thực hiện', 'Mã token', 'Qua', 'Địa chỉ', 'Đối tượng', 'Chi tiết']);
    expect(rows.length - 1).toBe(entries().length);
    expect(rows.some((r) => r[2] === 'credential_rotate')).toBe(true);
    const en = parseCsv((await call('/api/audit?format=csv&lang=en', admin)).text.slice(1), ',').filter((r) => r.join('') !== '');
    expect(en[0]).toEqual(['id', 'time', 'action', 'actor', 'actorTokenId', 'via', 'client', 'target', 'details']);
    const tokenCreate = en.find((r) => r[2] === 'token_create' && r[5] === 'api')!;
    expect(JSON.parse(tokenCreate[8]!)).toEqual({ name: 'Cán bộ xã A', role: 'operator', sites: ['xa-a'] });

    const read = (await call('/api/tokens', admin, { method: 'POST', body: { name: 'chỉ đọc', role: 'read' } })).body.token as string;
    expect((await call('/api/audit', read)).status).toBe(403);
    expect((await call('/api/audit?format=csv', read)).status).toBe(403);
    expect((await call('/api/audit', undefined)).status).toBe(401);
  });
});
