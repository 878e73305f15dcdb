// Shared helpers for the Canh benchmarks: free ports, child-process bookkeeping
// (every child is stopped at the end, also on error or Ctrl-C), /proc readers,
// a Mosquitto launcher and small statistics.
import { spawn, execFileSync } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer, connect } from 'node:net';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'dist/cli/canh.js');

/**
 * Every dist module the benchmarks import, in ONE place: when a source file moves
 * (e.g. collector/mosquitto-config.ts → collector/broker/mosquitto-config.ts), fix the
 * path here and nowhere else.
 */
export const DIST = {
  decode: 'dist/contract/decode.js',
  ack: 'dist/contract/ack.js',
  mosquittoConfig: 'dist/collector/broker/mosquitto-config.js',
  credentials: 'dist/collector/broker/credentials.js',
  passwordHash: 'dist/collector/broker/password-hash.js',
  sqliteStore: 'dist/collector/store/sqlite-store.js',
  sqliteHistory: 'dist/collector/store/sqlite-history.js',
  sqliteEventQuery: 'dist/collector/store/sqlite-event-query.js',
  tokenStore: 'dist/collector/http/api/auth/token-store.js',
  boardAssets: 'dist/collector/http/board-assets.js',
  heapGrowth: 'dist/collector/health/heap-growth.js',
};
/** Import one of {@link DIST} by key. */
export const importDist = (key) => {
  if (!DIST[key]) throw new Error(`bench/lib.mjs: no dist module "${key}"`);
  return import(join(ROOT, DIST[key]));
};

/**
 * The node flags the shipped launchers start the collector with (systemd unit, Dockerfile),
 * or BENCH_COLLECTOR_NODE_FLAGS when set (e.g. `--max-semi-space-size=8 --cpu-prof
 * --cpu-prof-dir=/tmp/prof` to profile the collector of any benchmark).
 */
export async function collectorNodeFlags() {
  const given = process.env.BENCH_COLLECTOR_NODE_FLAGS;
  if (given !== undefined) return given.split(/\s+/).filter(Boolean);
  return [...(await importDist('heapGrowth')).COLLECTOR_NODE_FLAGS];
}

/**
 * The environment the shipped launchers start the collector with (glibc's malloc
 * thresholds kept fixed: COLLECTOR_MALLOC_ENV of collector/health/heap-growth.ts), or none
 * with BENCH_COLLECTOR_MALLOC_ENV=0 (glibc's moving thresholds, to compare).
 */
export async function collectorLaunchEnv() {
  if (process.env.BENCH_COLLECTOR_MALLOC_ENV === '0') return {};
  const env = (await importDist('heapGrowth')).COLLECTOR_MALLOC_ENV;
  if (!env) throw new Error(`${DIST.heapGrowth} has no COLLECTOR_MALLOC_ENV: dist is older than bench/ (npm run build)`);
  return { ...env };
}

/**
 * [cmd, args] that run `cmd args…` with the open-file limit raised to `n` (one MQTT
 * connection is one descriptor; Node has no setrlimit). Falls back to the hard limit
 * when raising beyond it is not permitted (not root); `fileLimit()` tells what we got.
 */
export function withFileLimit(cmd, args, n = 65536) {
  return ['sh', ['-c', `ulimit -n ${n} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, cmd, ...args]];
}
/** Open-file limit (soft) of a running process, from /proc. */
export function fileLimit(pid) {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : NaN;
  } catch {
    return NaN;
  }
}
/**
 * Environment for a collector process on loopback: its data dir, HTTP port, and either
 * the embedded broker on `mqttPort` or an external broker `{ url, username, password }`.
 */
export function collectorEnv({ dataDir, httpPort, mqttPort, external, extra = {} }) {
  return {
    ...process.env,
    CANH_COLLECTOR__DATA_DIR: dataDir,
    CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
    CANH_COLLECTOR__HTTP__PORT: String(httpPort),
    ...(external
      ? {
          CANH_COLLECTOR__BROKER__MODE: 'external',
          CANH_COLLECTOR__BROKER__EXTERNAL__URL: external.url,
          CANH_COLLECTOR__BROKER__EXTERNAL__USERNAME: external.username,
          CANH_COLLECTOR__BROKER__EXTERNAL__PASSWORD: external.password,
        }
      : {
          CANH_COLLECTOR__BROKER__EMBEDDED__HOST: '127.0.0.1',
          CANH_COLLECTOR__BROKER__EMBEDDED__PORT: String(mqttPort),
          // Every simulated PC connects from 127.0.0.1, all at once: lift the per-address
          // cap (a commune's NAT, 256 by default) and the password-check queue (issue 14).
          CANH_COLLECTOR__BROKER__EMBEDDED__MAX_CONNECTIONS_PER_ADDRESS: '1000000',
          CANH_COLLECTOR__BROKER__EMBEDDED__MAX_CONNECTIONS: '1000000',
          CANH_COLLECTOR__BROKER__EMBEDDED__MAX_QUEUED_VERIFICATIONS: '100000',
        }),
    ...extra,
  };
}

/**
 * The stand-alone agent build that office PCs run. BENCH_AGENT_BUNDLE points at another
 * copy (an earlier build's dist/agent-bundle saved elsewhere) to run before and after
 * side by side in one session.
 */
export const AGENT_BUNDLE = process.env.BENCH_AGENT_BUNDLE ? resolve(process.env.BENCH_AGENT_BUNDLE) : join(ROOT, 'dist/agent-bundle/canh-agent.mjs');
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
export const PAGE_MS = 1000 / CLK_TCK;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort(host = '127.0.0.1') {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', rej);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = srv.address();
      srv.close((e) => (e ? rej(e) : res(port)));
    });
  });
}

export function canConnect(port, host = '127.0.0.1') {
  return new Promise((res) => {
    const s = connect({ port, host });
    const done = (ok) => {
      s.removeAllListeners();
      s.on('error', () => {});
      s.destroy();
      res(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export async function waitFor(what, fn, timeoutMs = 20_000, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

// ---- temp dirs and children -------------------------------------------------------------

const children = new Set();
const tempDirs = [];
const keepTemp = process.env.BENCH_KEEP === '1';

export function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/**
 * Spawn a child we own. Output goes to `logFile` (if given) and the last 64 KiB are kept
 * in memory (`out()`). `stdin: true` gives it a pipe (`child.stdin`) for commands.
 */
export function startProcess(name, cmd, args, opts = {}) {
  const c = spawn(cmd, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd ?? ROOT });
  let out = '';
  let logBuf = [];
  const append = (b) => {
    out = (out + b.toString('utf8')).slice(-65536);
    if (opts.logFile) logBuf.push(b);
  };
  if (!opts.rawStdout) c.stdout.on('data', append);
  c.stderr.on('data', append);
  const exited = new Promise((res) => {
    c.once('exit', (code, signal) => res({ code, signal }));
    c.once('error', (err) => res({ code: null, signal: null, err }));
  });
  const h = {
    name,
    child: c,
    pid: c.pid,
    exited,
    out: () => out,
    flushLog() {
      if (opts.logFile && logBuf.length) {
        try {
          writeFileSync(opts.logFile, Buffer.concat(logBuf), { flag: 'a' });
        } catch {
          // a log we could not write is not a benchmark result: keep going
        }
        logBuf = [];
      }
    },
    alive: () => c.exitCode === null && c.signalCode === null,
    async stop(timeoutMs = 10_000) {
      if (h.alive()) {
        c.kill('SIGTERM');
        const t = setTimeout(() => h.alive() && c.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(t);
      }
      h.flushLog();
      children.delete(h);
      return exited;
    },
  };
  children.add(h);
  return h;
}

export async function stopAll() {
  // Reverse start order, one at a time (clients before servers: no spurious disconnect warnings).
  for (const h of [...children].reverse()) await h.stop().catch(() => {});
  if (!keepTemp) for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${sig}: stopping child processes…\n`);
    stopAll().finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  // Last resort (synchronous): never leave children behind.
  for (const h of children)
    if (h.alive())
      try {
        h.child.kill('SIGKILL');
      } catch {
        // already gone: nothing to kill
      }
});

/** Run main(); always stop children; exit with main's code. */
export function runMain(main) {
  main().then(
    async (code) => {
      await stopAll();
      process.exitCode = code ?? 0;
    },
    async (err) => {
      process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
      await stopAll();
      process.exitCode = 2;
    },
  );
}

// ---- CLI ---------------------------------------------------------------------------------

export function canh(args, env = process.env) {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, cwd: ROOT });
}

// ---- /proc -------------------------------------------------------------------------------

/** CPU of a process in ms: own (utime+stime) and waited-for children (cutime+cstime). */
export function procCpu(pid) {
  const [utime, stime, cutime, cstime] = statFields(`/proc/${pid}/stat`, [14, 15, 16, 17]);
  return { self: (utime + stime) * PAGE_MS, children: (cutime + cstime) * PAGE_MS, total: (utime + stime + cutime + cstime) * PAGE_MS };
}

/** CPU of one thread of a process (its main thread when `tid` is the pid), ms: utime+stime. */
export function threadCpu(pid, tid = pid) {
  const [utime, stime] = statFields(`/proc/${pid}/task/${tid}/stat`, [14, 15]);
  return (utime + stime) * PAGE_MS;
}

/** Numeric fields of a `/proc/…/stat` file by their number in proc(5) (utime 14, stime 15, cutime 16, cstime 17, ppid 4). */
function statFields(path, numbers) {
  const s = readFileSync(path, 'utf8');
  // The command name may hold spaces and parentheses: fields after its last ")" start at 3 (state).
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return numbers.map((n) => Number(f[n - 3]));
}

/**
 * CPU of a process and all its live descendants (e.g. the agent's long-running ping),
 * plus what its reaped children used: utime+stime+cutime+cstime over the whole tree.
 */
export function procTreeCpu(pid) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      parent.set(Number(d), statFields(`/proc/${d}/stat`, [4])[0]);
    } catch {
      /* exited meanwhile */
    }
  }
  const isDescendant = (p) => {
    for (let cur = parent.get(p), hops = 0; cur !== undefined && hops < 64; cur = parent.get(cur), hops++) if (cur === pid) return true;
    return false;
  };
  let total = procCpu(pid).total;
  let descendants = 0;
  for (const p of parent.keys()) {
    if (p !== pid && isDescendant(p)) {
      try {
        const c = procCpu(p);
        total += c.total;
        descendants += c.total;
      } catch {
        /* exited meanwhile */
      }
    }
  }
  return { total, descendants };
}

/**
 * On-CPU time in ms with nanosecond resolution: the sum of `/proc/<tid>/schedstat` (the
 * scheduler's sum_exec_runtime) over every live thread of `pid` and of its live
 * descendants. /proc/<pid>/stat counts in clock ticks (10 ms: ±1 tick at each end of a
 * window is ±15 % of an agent's 60-s window); this does not, but it misses threads and
 * children that ended within the window (an agent's threads live as long as it does).
 */
export function procTreeCpuNs(pid) {
  const pids = [pid];
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  for (const p of parent.keys()) {
    for (let cur = parent.get(p), hops = 0; cur !== undefined && hops < 64; cur = parent.get(cur), hops++)
      if (cur === pid) {
        pids.push(p);
        break;
      }
  }
  let ns = 0;
  for (const p of pids) {
    let tids;
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const t of tids) {
      try {
        ns += Number(readFileSync(`/proc/${p}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        /* thread ended meanwhile */
      }
    }
  }
  return ns / 1e6;
}

/** Fields of /proc/<pid>/status in MB (VmRSS, RssAnon, RssFile, VmHWM). */
export function procMem(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k) => {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s);
    return m ? Number(m[1]) / 1024 : NaN;
  };
  return { rss: get('VmRSS'), anon: get('RssAnon'), file: get('RssFile'), hwm: get('VmHWM') };
}

// ---- stats -------------------------------------------------------------------------------

/**
 * Where a process's anonymous memory is (MB), from /proc/PID/smaps: `v8Pages` the 256 KiB
 * mappings (V8's heap pages, of every isolate: main thread and workers, pooled ones too),
 * `brk` glibc's main arena, `mmap1to64` other anonymous mappings from 1 to 64 MiB (glibc's
 * thread arenas, large allocations, V8's large objects), `otherAnon` the rest; `threads`.
 */
export function anonMap(pid) {
  const out = { v8Pages: 0, brk: 0, mmap1to64: 0, otherAnon: 0, file: 0 };
  try {
    let size = 0;
    let name = '';
    for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) {
        size = (parseInt(head[2], 16) - parseInt(head[1], 16)) / 1024;
        name = head[3];
        continue;
      }
      if (!line.startsWith('Rss:')) continue;
      const kb = Number(line.split(/\s+/)[1]) / 1024;
      if (name && !name.startsWith('[')) out.file += kb;
      else if (name === '[heap]') out.brk += kb;
      else if (name) out.otherAnon += kb;
      else if (size === 256) out.v8Pages += kb;
      else if (size >= 1024 && size <= 65536) out.mmap1to64 += kb;
      else out.otherAnon += kb;
    }
    for (const k of Object.keys(out)) out[k] = Math.round(out[k]);
    out.threads = readdirSync(`/proc/${pid}/task`).length;
  } catch (err) {
    out.err = err.message;
  }
  return out;
}

export function quantile(values, q) {
  if (!values.length) return NaN;
  const a = Float64Array.from(values).sort();
  const i = Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1));
  return a[i];
}
/** The median: the middle value, or the mean of the two middle ones for an even count (two runs give their mean, not the lower). */
export function median(values) {
  if (!values.length) return NaN;
  const a = Float64Array.from(values).sort();
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}
export const max = (v) => (v.length ? v.reduce((a, b) => (b > a ? b : a), -Infinity) : NaN);
export const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : String(n));

export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')).join('\n');
}

// ---- Mosquitto ---------------------------------------------------------------------------

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

/** Start Mosquitto with Canh's production config (mosquittoConf) on a free port. */
export async function startMosquitto({ dir, passwdFile, aclFile, conf = {}, logFile, port: fixedPort, fileLimit: nofile }) {
  const { mosquittoConf } = await importDist('mosquittoConfig');
  const port = fixedPort ?? (await freePort());
  const confFile = join(dir, 'mosquitto.conf');
  const text = mosquittoConf({
    ...(process.getuid?.() === 0 ? { user: 'root' } : {}),
    ...conf,
    port,
    passwordFile: passwdFile,
    aclFile,
  });
  writeFileSync(confFile, text, { mode: 0o600 });
  const [cmd, args] = nofile ? withFileLimit(MOSQUITTO_BIN, ['-c', confFile], nofile) : [MOSQUITTO_BIN, ['-c', confFile]];
  const h = startProcess('mosquitto', cmd, args, { logFile });
  await waitFor(
    'mosquitto to listen',
    async () => {
      if (!h.alive()) throw new Error(`mosquitto exited during startup:\n${h.out()}`);
      return canConnect(port);
    },
    10_000,
    50,
  );
  return { ...h, port, url: `mqtt://127.0.0.1:${port}`, confFile };
}

/**
 * A local HTTP endpoint standing in for the notifiers' webhook: each POST's body (read up
 * to 1 MB) goes to `onBody(path, body)`, answered 200 {"ok":true}. Returns its base URL.
 */
export async function webhookSink(onBody) {
  const srv = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      if (body.length < 1e6) body += c;
    });
    req.on('end', () => {
      onBody(req.url ?? '', body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${srv.address().port}`, close: () => srv.close() };
}
