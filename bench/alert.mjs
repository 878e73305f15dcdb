#!/usr/bin/env node
// bench:alert — time from a site losing power (every agent of the site killed with
// SIGKILL, as a power cut does to the processes) to the Zalo message accepted by the local
// Zalo stand-in, with the collector's default alerting and notifier settings (only the
// channel is configured: a zalo_bot channel whose baseUrl is the stand-in). One site per
// run (a site's alert fires once until it resolves), AGENTS agents per site; median of RUNS.
//
//   npm run bench:alert            (RUNS=10 AGENTS=3 by default)
//
// What the figure contains: broker Last Will on the dropped connections, the site_offline
// rule's pending duration (10 s), the evaluation period (2 s), the group wait (5 s), the
// notifier outbox and one HTTP request to the stand-in.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { AGENT_BUNDLE, CLI, ROOT, canh, collectorEnv, fmt, freePort, median, quantile, runMain, startProcess, tempDir, waitFor } from './lib.mjs';

const RUNS = Number(process.env.RUNS ?? 10);
const AGENTS = Number(process.env.AGENTS ?? 3);
const TARGET_S = 30;
const BOT_TOKEN = '424242:bench-alert-token';

/** The Zalo stand-in is TypeScript (test/helpers): bundle it once for this plain-JS bench. */
async function loadStandin(dir) {
  const out = join(dir, 'zalo-standin.mjs');
  await build({ entryPoints: [join(ROOT, 'test/helpers/zalo-standin.ts')], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error' });
  return (await import(pathToFileURL(out).href)).ZaloStandin;
}

runMain(async () => {
  for (const f of [CLI, AGENT_BUNDLE]) if (!existsSync(f)) throw new Error(`${f} missing: run npm run build`);
  const dir = tempDir('canh-bench-alert-');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const ZaloStandin = await loadStandin(dir);
  const zalo = new ZaloStandin({ botTokens: [BOT_TOKEN] });
  await zalo.start();
  try {
    const [mqttPort, httpPort] = await Promise.all([freePort(), freePort()]);
    const sites = Array.from({ length: RUNS }, (_, i) => `xa-bench-${i + 1}`);
    const creds = new Map();
    for (const site of sites)
      for (let h = 1; h <= AGENTS; h++)
        creds.set(`${site}/pc-${h}`, JSON.parse(canh(['credentials', 'add', '--data-dir', dataDir, '--site', site, '--host', `pc-${h}`, '--json'])));
    const collector = startProcess('collector', process.execPath, [CLI, 'collector'], {
      logFile: join(dir, 'collector.log'),
      env: collectorEnv({
        dataDir,
        httpPort,
        mqttPort,
        extra: {
          CANH_LOG_LEVEL: 'info',
          CANH_COLLECTOR__NOTIFY__CHANNELS: JSON.stringify([{ type: 'zalo_bot', name: 'zalo', token: BOT_TOKEN, chatId: 'bench', baseUrl: zalo.url }]),
        },
      }),
    });
    await waitFor('collector HTTP', async () => {
      if (!collector.alive()) throw new Error(`collector exited:\n${collector.out()}`);
      try {
        return (await fetch(`http://127.0.0.1:${httpPort}/api/health`)).ok;
      } catch {
        return false;
      }
    });
    const db = new Database(join(dataDir, 'canh.db'), { readonly: true });
    const online = db.prepare(`SELECT COUNT(*) AS n FROM hosts WHERE site = ? AND state = 'online'`);
    const times = [];
    process.stdout.write(`bench:alert — ${RUNS} runs, ${AGENTS} agents per site, default alerting settings\n`);
    for (const [i, site] of sites.entries()) {
      const agents = [];
      for (let h = 1; h <= AGENTS; h++) {
        const host = `pc-${h}`;
        const cred = creds.get(`${site}/${host}`);
        const stateDir = join(dir, `${site}-${host}`);
        agents.push(
          startProcess(`agent ${site}/${host}`, process.execPath, [AGENT_BUNDLE], {
            logFile: join(dir, `agent-${site}-${host}.log`),
            env: {
              ...process.env,
              CANH_LOG_LEVEL: 'info',
              CANH_AGENT__SITE: site,
              CANH_AGENT__HOST: host,
              CANH_AGENT__STATE_DIR: stateDir,
              CANH_AGENT__MQTT__URL: `mqtt://127.0.0.1:${mqttPort}`,
              CANH_AGENT__MQTT__USERNAME: cred.username,
              CANH_AGENT__MQTT__PASSWORD: cred.password,
              // Loopback only: benchmarks never ping the network.
              CANH_AGENT__PING__GATEWAY: 'false',
              CANH_AGENT__PING__TARGETS: '["127.0.0.1"]',
            },
          }),
        );
      }
      await waitFor(`${site}: ${AGENTS} agents online`, () => online.get(site).n === AGENTS, 60_000, 100);
      // Let the collector see the site settled (a few evaluations with every host online).
      await new Promise((r) => setTimeout(r, 3000));
      const before = zalo.botMessages.length;
      const t0 = Date.now();
      for (const a of agents) a.child.kill('SIGKILL');
      await Promise.all(agents.map((a) => a.exited));
      const msg = await waitFor(`${site}: Zalo message`, () => zalo.botMessages.slice(before).find((m) => m.text.includes(site)), 120_000, 50);
      const s = (msg.at - t0) / 1000;
      times.push(s);
      for (const a of agents) await a.stop();
      process.stdout.write(`run ${String(i + 1).padStart(2)}: ${fmt(s, 2)} s  (${msg.text.split('\n')[0]})\n`);
    }
    db.close();
    const med = median(times);
    process.stdout.write(`min ${fmt(Math.min(...times), 2)} s, p90 ${fmt(quantile(times, 0.9), 2)} s, max ${fmt(Math.max(...times), 2)} s\n`);
    process.stdout.write(`power cut → Zalo message accepted: median ${fmt(med, 1)} s over ${times.length} runs (target ≤ ${TARGET_S} s)\n`);
    return med <= TARGET_S ? 0 : 1;
  } finally {
    await zalo.stop();
  }
});
