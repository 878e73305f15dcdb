/**
 * The SSE hub with a fake clock: coalesced updates per kind/site/host, the 15 s heartbeat,
 * the client bound, slow clients dropped, the pending-updates bound.
 */
import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { StreamHub } from '../../../../../collector/http/api/stream-hub.js';
import { MetricsRegistry } from '../../../../../common/metrics-registry.js';
import { silentLogger } from '../../../../../common/log.js';
import { FakeClock } from '../../../../helpers/fake-clock.js';

class FakeResponse extends EventEmitter {
  text = '';
  writableLength = 0;
  destroyed = false;
  headers: Record<string, string> = {};
  statusCode = 0;
  status(c: number) {
    this.statusCode = c;
    return this;
  }
  setHeader(k: string, v: string) {
    this.headers[k.toLowerCase()] = v;
  }
  flushHeaders() {}
  write(s: string) {
    this.text += s;
    return true;
  }
  end() {
    this.emit('close');
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
}

function setup(opts: { maxClients?: number; maxPending?: number } = {}) {
  const clock = new FakeClock();
  const metrics = new MetricsRegistry();
  const hub = new StreamHub({ clock, log: silentLogger(), metrics, maxClients: opts.maxClients ?? 10, maxPending: opts.maxPending });
  hub.start();
  const connect = () => {
    const res = new FakeResponse();
    const ok = hub.attach({} as Request, res as unknown as Response);
    return { res, ok };
  };
  return { clock, metrics, hub, connect };
}

const updates = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);

describe('StreamHub', () => {
  it('sends one coalesced update per kind/site/host each flush, to every client', () => {
    const { hub, clock, connect } = setup();
    const a = connect();
    const b = connect();
    expect(a.res.headers['content-type']).toMatch(/^text\/event-stream/);
    for (let i = 0; i < 5; i++) hub.publish({ kind: 'sample', site: 's', host: 'h1', t: i });
    hub.publish({ kind: 'sample', site: 's', host: 'h2', t: 9 });
    hub.publish({ kind: 'alert', site: 's', host: null, t: 9 });
    expect(updates(a.res.text)).toEqual([]);
    clock.advance(1000);
    expect(updates(a.res.text)).toEqual([
      { kind: 'sample', site: 's', host: 'h1', t: 4 },
      { kind: 'sample', site: 's', host: 'h2', t: 9 },
      { kind: 'alert', site: 's', host: null, t: 9 },
    ]);
    expect(b.res.text).toBe(a.res.text);
    clock.advance(1000);
    expect(updates(a.res.text)).toHaveLength(3); // nothing new, nothing resent
  });

  it('sends a heartbeat comment every 15 s', () => {
    const { clock, connect } = setup();
    const a = connect();
    clock.advance(14_999);
    expect(a.res.text).not.toContain(': heartbeat');
    clock.advance(1);
    expect(a.res.text.match(/: heartbeat/g)).toHaveLength(1);
    clock.advance(30_000);
    expect(a.res.text.match(/: heartbeat/g)).toHaveLength(3);
  });

  it('refuses clients beyond the bound and frees a slot when one leaves', () => {
    const { hub, connect, metrics } = setup({ maxClients: 2 });
    const a = connect();
    expect(connect().ok).toBe(true);
    expect(connect().ok).toBe(false);
    expect(metrics.render()).toMatch(/canh_sse_refused_total 1/);
    a.res.emit('close');
    expect(hub.clientCount()).toBe(1);
    expect(connect().ok).toBe(true);
  });

  it('drops a client that does not read, and bounds pending updates', () => {
    const { hub, clock, connect, metrics } = setup({ maxPending: 3 });
    const slow = connect();
    const fine = connect();
    slow.res.writableLength = 2 * 1024 * 1024;
    for (let i = 0; i < 5; i++) hub.publish({ kind: 'sample', site: 's', host: `h${i}`, t: i });
    clock.advance(1000);
    expect(slow.res.destroyed).toBe(true);
    expect(hub.clientCount()).toBe(1);
    expect(updates(fine.res.text)).toHaveLength(3);
    const text = metrics.render();
    expect(text).toMatch(/canh_sse_dropped_total\{reason="slow_client"\} 1/);
    expect(text).toMatch(/canh_sse_dropped_total\{reason="pending_full"\} 2/);
  });

  it('stops its timers and closes its clients', () => {
    const { hub, clock, connect } = setup();
    connect();
    hub.stop();
    expect(hub.clientCount()).toBe(0);
    expect(clock.pending).toBe(0);
  });
});
