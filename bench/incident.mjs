#!/usr/bin/env node
// Site incident detection time (issue 3): a collector process (embedded broker, default
// settings) and five real agents of one site (the shipped bundle, default keepalive and
// interval); all five are killed with SIGKILL at once and we time how long until the
// collector logs the site incident as open. Median over BENCH_RUNS runs (default 10).
//
// Two ways a PC can vanish:
//   - "power cut": the PC loses power, so no TCP FIN ever reaches the broker; the broker
//     learns it from the keepalive (Last Will at 1.5 × keepalive, 15 s by default). Each
//     agent connects through a loopback proxy that keeps the broker side of a dead agent's
//     connection open and silent (the headline: the realistic case).
//   - "process kill": kill -9 with the OS still up; its kernel closes the socket and the
//     broker fires the Last Will at once.
//
//   npm run bench:incident
//   BENCH_RUNS=3 node bench/incident.mjs
import { mkdtempSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { AGENT_BUNDLE, CLI, collectorEnv, fmt, freePort, median, runMain, sleep, startProcess, table, tempDir, waitFor } from './lib.mjs';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const HOSTS = 5;
const TARGET_S = 20;

/** A loopback proxy that never passes a client's disappearance upstream (a powered-off PC sends no FIN). */
async function silentProxy(targetPort) {
  const sockets = new Set();
  const server = createServer((client) => {
    const up = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(up);
    client.setNoDelay(true);
    up.setNoDelay(true);
    client.on('error', () => {});
    up.on('error', () => {});
    client.on('data', (d) => up.write(d));
    up.on('data', (d) => client.writable && client.write(d));
    client.on('close', () => {}); // upstream stays open and silent until the broker gives up on it
    up.on('close', () => client.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

function addCredential(dataDir, site, host) {
  return JSON.parse(execFileSync(process.execPath, [CLI, 'credentials', 'add', '--data-dir', dataDir, '--site', site, '--host', host, '--json'], { encoding: 'utf8' }));
}

async function main() {
  const dir = tempDir('canh-bench-incident-');
  const dataDir = join(dir, 'data');
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const col = startProcess('collector', process.execPath, [CLI, 'collector'], {
    env: collectorEnv({ dataDir, httpPort, mqttPort }),
    rawStdout: true,
    logFile: join(dir, 'collector.log'),
  });
  const opened = new Map(); // site → log time of 'site incident opened'
  let partial = '';
  col.child.stdout.on('data', (b) => {
    partial += b.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      if (!l.includes('site incident opened')) continue;
      try {
        const j = JSON.parse(l);
        if (!opened.has(j.site)) opened.set(j.site, typeof j.time === 'number' ? j.time : Date.parse(j.time));
      } catch {
        // not a JSON log line
      }
    }
  });
  await waitFor('collector HTTP', async () => (await fetch(`http://127.0.0.1:${httpPort}/api/health`).catch(() => undefined))?.ok, 30_000);

  const results = { power: [], kill: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const mode of ['power', 'kill']) {
      const site = `bench-${mode}-${run}`;
      const proxies = [];
      const agents = [];
      for (let i = 1; i <= HOSTS; i++) {
        const host = `pc-${i}`;
        const cred = addCredential(dataDir, site, host);
        let port = mqttPort;
        if (mode === 'power') {
          const p = await silentProxy(mqttPort);
          proxies.push(p);
          port = p.port;
        }
        const stateDir = mkdtempSync(join(dir, `${site}-${host}-`));
        agents.push(
          startProcess(`agent ${site}/${host}`, process.execPath, [AGENT_BUNDLE], {
            env: {
              PATH: process.env.PATH,
              HOME: process.env.HOME,
              CANH_AGENT__SITE: site,
              CANH_AGENT__HOST: host,
              CANH_AGENT__STATE_DIR: stateDir,
              CANH_AGENT__MQTT__URL: `mqtt://127.0.0.1:${port}`,
              CANH_AGENT__MQTT__USERNAME: cred.username,
              CANH_AGENT__MQTT__PASSWORD: cred.password,
              // Loopback only (benchmarks touch no other network); everything else default.
              CANH_AGENT__PING__GATEWAY: 'false',
              CANH_AGENT__PING__TARGETS: '["127.0.0.1"]',
            },
          }),
        );
      }
      // All five online in the collector's store, then a random phase against the keepalive
      // and sampling timers (default 10 s and 15 s).
      await waitFor(
        `${site} online`,
        () => {
          const db = new Database(join(dataDir, 'canh.db'), { readonly: true, fileMustExist: true });
          try {
            return db.prepare(`SELECT count(*) AS n FROM hosts WHERE site = ? AND state = 'online'`).get(site).n === HOSTS;
          } finally {
            db.close();
          }
        },
        60_000,
        200,
      );
      await sleep(2000 + Math.random() * 15_000);
      const killedAt = Date.now();
      for (const a of agents) a.child.kill('SIGKILL');
      await waitFor(`${site} incident`, () => opened.has(site), 120_000, 50);
      const s = (opened.get(site) - killedAt) / 1000;
      results[mode].push(s);
      process.stderr.write(`run ${run + 1}/${RUNS} ${mode === 'power' ? 'power cut (no FIN)' : 'process kill (FIN)'}: incident open after ${fmt(s, 2)} s\n`);
      for (const a of agents) await a.stop();
      // Keep the silent connections until the broker dropped them: each run is one site's cut.
      for (const p of proxies) p.close();
    }
  }
  console.log(
    table([
      ['how the hosts vanished', 'runs', 'median s', 'min s', 'max s'],
      [
        'power cut (no FIN: Last Will at 1.5 × keepalive)',
        results.power.length,
        fmt(median(results.power), 2),
        fmt(Math.min(...results.power), 2),
        fmt(Math.max(...results.power), 2),
      ],
      ['process kill (FIN: Last Will at once)', results.kill.length, fmt(median(results.kill), 2), fmt(Math.min(...results.kill), 2), fmt(Math.max(...results.kill), 2)],
    ]),
  );
  const m = median(results.power);
  console.log(
    `HEADLINE incident open ${fmt(m, 1)} s after a site's 5 hosts lost power (median of ${results.power.length}, default settings; kill -9 with FIN: ${fmt(median(results.kill), 2)} s); target <= ${TARGET_S} s: ${m <= TARGET_S ? 'met' : 'NOT met'}`,
  );
  return m <= TARGET_S ? 0 : 1;
}

runMain(main);
