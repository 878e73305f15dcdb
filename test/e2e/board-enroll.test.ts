/// <reference lib="dom" />
/**
 * The board's "Thêm máy tính" page (issue 15) in real headless Chromium against a real
 * collector: an admin creates an enrolment token and gets the commands to paste (with the
 * package's SHA-256), a real agent with that token and a cloned machine id waits, the admin
 * approves it on the page and it enrolls; a read-only user is told it needs an admin. No
 * CSP violation, no script error. Screenshots go to test-artifacts/board/ (for docs/vi).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { createApiToken, startCanh, type CanhProcess } from '../helpers/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/board/', import.meta.url));
const AGENT = fileURLToPath(new URL('../../dist/agent-bundle/canh-agent.mjs', import.meta.url));
const SITE = 'xa-binh-minh';

let dep: Deployment;
let base: string;
let browser: Browser;
const problems: string[] = [];
const agents: CanhProcess[] = [];

function watch(p: Page): void {
  p.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
}

async function logIn(token: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' })).newPage();
  watch(page);
  await page.goto(base);
  await page.waitForSelector('#login-form');
  await page.fill('#token', token);
  await page.click('#login-submit');
  await page.waitForSelector('#nav-enroll');
  await page.waitForFunction(() => document.getElementById('view')?.getAttribute('data-view') !== 'login');
  return page;
}

function agentWith(token: string, machineId: string, mac: string): CanhProcess {
  const dir = mkdtempSync(join(tmpdir(), 'canh-board-enroll-pc-'));
  writeFileSync(join(dir, 'agent.json'), JSON.stringify({ site: SITE, collector: base, enrollToken: token }));
  writeFileSync(join(dir, 'identity.json'), JSON.stringify({ machineId, macs: [mac], diskSerials: [`disk-${mac}`] }));
  const a = startCanh(
    ['--config', join(dir, 'agent.json')],
    {
      CANH_AGENT_IDENTITY_FILE: join(dir, 'identity.json'),
      CANH_AGENT__STATE_DIR: join(dir, 'state'),
      CANH_AGENT__HOSTNAME: 'PC-TiepNhan',
      CANH_AGENT__INTERVAL_SECONDS: '1',
      CANH_AGENT__PING__GATEWAY: 'false',
      CANH_AGENT__PING__TARGETS: '["127.0.0.1"]',
      CANH_AGENT__HTTP__ENABLED: 'false',
      CANH_AGENT__NETWORK__ENABLED: 'false',
    },
    'board-enroll agent',
    AGENT,
  );
  agents.push(a);
  return a;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it as root with \`apt-get install -y chromium\``);
  mkdirSync(ARTIFACTS, { recursive: true });
  dep = await createDeployment('canh-board-enroll-');
  base = `http://127.0.0.1:${dep.httpPort}`;
  await dep.startCollector({ CANH_COLLECTOR__ENROLLMENT__PENDING_RETRY_SECONDS: '1' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking'], headless: true });
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGTERM', 10_000)));
  await browser?.close();
  await dep?.stopAll();
});

describe('board: Thêm máy tính', () => {
  it('creates a token with the commands to paste, then approves a suspected clone', async () => {
    const page = await logIn(dep.apiToken());
    expect(await page.textContent('#nav-enroll')).toBe('Thêm máy tính');
    await page.click('#nav-enroll');
    await page.waitForSelector('#enroll-form');
    await page.waitForSelector('#enroll-packages tbody tr');
    const sum = createHash('sha256')
      .update(readFileSync(fileURLToPath(new URL('../../dist/packages/canh-agent-linux.tar.gz', import.meta.url))))
      .digest('hex');
    expect(await page.textContent('#enroll-packages')).toContain(sum);
    await page.fill('#enroll-site', SITE);
    await page.fill('#enroll-uses', '5');
    await page.click('#enroll-create');
    await page.waitForSelector('#enroll-token');
    const token = (await page.textContent('#enroll-token'))!;
    expect(token).toMatch(/^canh_enr_[A-Za-z0-9_-]{32}$/);
    const windows = await page.inputValue('#enroll-windows');
    const linux = await page.inputValue('#enroll-linux');
    expect(windows).toContain(`-EnrollToken '${token}'`);
    expect(windows).toContain(`$u='${base}'`);
    expect(linux).toContain(`--sha256 ${sum}`);
    expect(linux).toContain(`--site '${SITE}'`);
    await page.screenshot({ path: `${ARTIFACTS}enroll-token.png`, fullPage: true });

    // Two PCs from one disk image: the first enrolls, the second waits for the admin.
    const first = agentWith(token, 'ab'.repeat(16), '3c:52:82:00:10:01');
    await first.waitFor((l) => l.module === 'enrollment' && typeof l.mqttUrl === 'string', 30_000, 'first PC enrolled');
    const clone = agentWith(token, 'ab'.repeat(16), '3c:52:82:00:10:02');
    await clone.waitFor((l) => l.reason === 'clone', 30_000, 'clone waiting');
    // Reopen the page (as the officer would) to see the waiting PC.
    await page.click('#nav-alerts');
    await page.click('#nav-enroll');
    await page.waitForSelector('#enroll-machines tr[data-machine]');
    expect(await page.textContent('#enroll-machines')).toContain('sao chép ổ đĩa');
    await page.screenshot({ path: `${ARTIFACTS}enroll-waiting.png`, fullPage: true });
    await page.click('#enroll-machines tr[data-machine] button.act');
    const line = await clone.waitFor((l) => l.module === 'enrollment' && typeof l.mqttUrl === 'string', 30_000, 'clone enrolled after approval');
    expect(line.host).toBe('pc-tiepnhan-2');
    await page.waitForFunction(() => !document.querySelector('#enroll-machines tr[data-machine]'));
    // The token's row shows its two uses.
    expect(await page.textContent('#enroll-tokens')).toContain('2 / 5');
    expect(problems).toEqual([]);
  });

  it('tells a read-only user that adding computers needs an admin', async () => {
    const page = await logIn(createApiToken(dep.dataDir, 'read', 'officer').token);
    await page.goto(`${base}/#/enroll`);
    await page.waitForFunction(() => document.getElementById('view')?.getAttribute('data-view') === 'enroll');
    expect(await page.textContent('#view')).toContain('Chỉ quản trị viên');
    expect(await page.$('#enroll-form')).toBeNull();
    expect(problems).toEqual([]);
  });
});
