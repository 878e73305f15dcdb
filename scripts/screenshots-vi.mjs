#!/usr/bin/env node
// Screenshots of the board for docs/vi/ (issue 15): a real collector (embedded broker) on
// loopback with three real agents of one site, Vietnamese board in headless Chromium.
// Run after `npm run build`: node scripts/screenshots-vi.mjs  (needs /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/cli/canh.js');
const AGENT = join(ROOT, 'dist/agent-bundle/canh-agent.mjs');
const OUT = join(ROOT, 'docs/vi/img');
const SITE = 'xa-an-binh';
const HOSTS = ['pc-motcua-01', 'pc-motcua-02', 'pc-ketoan'];

const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), 'canh-shots-'));
const procs = [];
try {
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const config = join(dir, 'collector.json');
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: httpPort },
      broker: { embedded: { host: '127.0.0.1', port: mqttPort } },
      sites: { [SITE]: { name: 'UBND xã An Bình', lineMbps: 50 } },
    }),
  );
  const token = JSON.parse(
    spawnSync(process.execPath, [CLI, 'tokens', 'create', '--config', config, '--name', 'docs', '--role', 'admin', '--json'], { encoding: 'utf8' }).stdout,
  ).token;
  const collector = spawn(process.execPath, [CLI, 'collector', '--config', config], { stdio: 'ignore' });
  procs.push(collector);
  for (const host of HOSTS) {
    const cred = JSON.parse(spawnSync(process.execPath, [CLI, 'credentials', 'add', '--config', config, '--site', SITE, '--host', host, '--json'], { encoding: 'utf8' }).stdout);
    const env = {
      PATH: process.env.PATH,
      CANH_AGENT__SITE: SITE,
      CANH_AGENT__HOST: host,
      CANH_AGENT__HOSTNAME: host.toUpperCase(),
      CANH_AGENT__STATE_DIR: join(dir, host),
      CANH_AGENT__INTERVAL_SECONDS: '2',
      CANH_AGENT__MQTT__URL: `mqtt://127.0.0.1:${mqttPort}`,
      CANH_AGENT__MQTT__USERNAME: cred.username,
      CANH_AGENT__MQTT__PASSWORD: cred.password,
      CANH_AGENT__PING__GATEWAY: 'false',
      CANH_AGENT__PING__TARGETS: '["127.0.0.1"]',
      CANH_AGENT__HTTP__ENABLED: 'false',
    };
    procs.push(spawn(process.execPath, [AGENT], { env, stdio: 'ignore' }));
  }
  // A few samples per PC.
  await new Promise((r) => setTimeout(r, 15_000));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
  const page = await browser.newPage({ viewport: { width: 1100, height: 620 }, locale: 'vi-VN' });
  const base = `http://127.0.0.1:${httpPort}/`;
  await page.goto(base);
  await page.waitForSelector('#login-form');
  await page.screenshot({ path: join(OUT, 'dang-nhap.png') });
  await page.fill('#token', token);
  await page.click('#login-submit');
  await page.waitForSelector(`a.tile[data-site="${SITE}"]`);
  await page.waitForTimeout(1000);
  await page.screenshot({ path: join(OUT, 'tong-quan.png') });
  await page.goto(`${base}#/site/${SITE}`);
  await page.waitForSelector('table.hosts tbody tr');
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(OUT, 'diem.png') });
  await page.goto(`${base}#/alerts`);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(OUT, 'canh-bao.png') });
  await browser.close();
  console.log(`screenshots in ${OUT}`);
} finally {
  for (const p of procs.reverse()) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 2000));
  rmSync(dir, { recursive: true, force: true });
}
