#!/usr/bin/env node
// Installs (or explains how to install) the real services the test suite runs against.
// Tests never skip when a service is missing: this script makes sure it is there first.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDED = [
  { bin: '/usr/sbin/mosquitto', pkg: 'mosquitto', why: 'MQTT broker for integration tests' },
  { bin: '/usr/bin/mosquitto_passwd', pkg: 'mosquitto', why: 'password-file compatibility test' },
  { bin: '/usr/bin/mosquitto_sub', pkg: 'mosquitto-clients', why: 'ingest benchmark baseline' },
  { bin: '/usr/bin/ping', pkg: 'iputils-ping', why: 'ping source' },
  { bin: '/usr/bin/prometheus-node-exporter', pkg: 'prometheus-node-exporter', why: 'agent benchmark reference' },
  { bin: '/usr/bin/openssl', pkg: 'openssl', why: 'test certificates for MQTT over TLS' },
  { bin: '/usr/bin/victoria-metrics', pkg: 'victoria-metrics', why: 'time-series database for the InfluxDB export tests' },
  { bin: '/usr/bin/docker-compose', pkg: 'docker-compose', why: 'compose file validation (no engine needed)' },
  { bin: '/usr/bin/systemd-analyze', pkg: 'systemd', why: 'systemd unit verification' },
  { bin: '/usr/sbin/ip', pkg: 'iproute2', why: 'network namespaces for the network-cut tests' },
  { bin: '/usr/sbin/iptables', pkg: 'iptables', why: 'packet drops inside test network namespaces' },
  { bin: '/usr/bin/chromium', pkg: 'chromium', why: 'headless browser for the web board tests (playwright-core)' },
  { bin: '/usr/sbin/smartctl', pkg: 'smartmontools', why: 'disk health: a real smartctl run against this machine' },
];

const missing = NEEDED.filter((n) => !existsSync(n.bin));
if (missing.length === 0) process.exit(0);

const pkgs = [...new Set(missing.map((m) => m.pkg))];
const hint = `apt-get install -y ${pkgs.join(' ')}`;
process.stderr.write(`test prerequisites missing: ${missing.map((m) => `${m.bin} (${m.why})`).join(', ')}\n`);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
if (!isRoot || !hasApt) {
  process.stderr.write(`install them first, as root: ${hint}\n`);
  process.exit(1);
}
process.stderr.write(`installing: ${hint}\n`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
try {
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
} catch {
  process.stderr.write(`apt-get failed; install manually: ${hint}\n`);
  process.exit(1);
}
const still = NEEDED.filter((n) => !existsSync(n.bin));
if (still.length) {
  process.stderr.write(`still missing after install: ${still.map((s) => s.bin).join(', ')}\n`);
  process.exit(1);
}
// Debian starts the packaged daemons; the tests start their own on free ports.
spawnSync('sh', [
  '-c',
  'service mosquitto stop >/dev/null 2>&1 || true; service prometheus-node-exporter stop >/dev/null 2>&1 || true; service victoria-metrics stop >/dev/null 2>&1 || true',
]);
