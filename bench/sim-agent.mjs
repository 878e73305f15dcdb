// A simulated Canh agent speaking the delivery protocol of issue 12 (contract/ack.ts), for
// the load generators of bench:ingest and bench:province. One MQTT connection each.
//
// - every record (sample, event) stays in the outbox until the COLLECTOR's end-to-end ack
//   (canh/v1/<site>/<host>/ack) covers it; PUBACK only frees the MQTT packet id;
// - at most `inflight` records sent and unacked (the window): live records first, backlog
//   (older, never sent or sent before a disconnection) behind, at `replayPerSecond`;
// - a record unacked after the ack timeout (30 s) is sent again with a fresh `sent` stamp;
//   the timeout doubles (to 300 s) while no ack comes and is reset by the ack of a record
//   sent once (Karn); it follows
//   the measured round trip (SRTT + 4 RTTVAR, Karn's rule) when that is longer;
// - the outbox is bounded (`outboxMax` records); overflow drops the oldest, counted;
// - batches (contract/decode.ts `decodeMessages`): once the collector's ack announced
//   `batch` (contract/ack.ts), the records sent in one turn of the event loop go packed,
//   per topic, up to min(batch, `batchRecords`) records and 64 KiB per message, as the
//   agent's publisher does; a lone record goes alone; after a reconnect, single records
//   until an ack announces batches again (`forceBatch`: always, for the mosquitto_sub
//   baseline, where no collector acks);
// - birth status (retained) at connect and the Last Will "offline"; a power cut closes the
//   socket without DISCONNECT (the broker fires the Will) and the agent returns with a new
//   boot id and an `outage` event shaped like agent/outage-detector.ts builds it.
//
// The outbox keeps (boot, seq, t) only and rebuilds the JSON at each send from a PRNG
// seeded by (host, boot, seq), so a re-send is the same record (only `sent` differs) and
// 10,000 agents × a 30-minute backlog fit in memory ("disk" of the real agent).
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';

const GB = 1024 ** 3;

/** mulberry32: small deterministic PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function hash32(str) {
  let h = 2166136261;
  for (let i = 0; i < str.length; i++) h = Math.imul(h ^ str.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * A status body as the agent sends it: its birth ("online", at connect) or its Last Will
 * ("offline", stamped with the session's connect time). `a`: site, host, boot, seq, osBoot.
 */
export function statusBody(a, state, t, { hostname = a.host, keepalive = 10 } = {}) {
  return { v: 1, site: a.site, host: a.host, boot: a.boot, seq: a.seq, t, sent: t, state, hostname, agentVersion: 'bench', keepalive, osBoot: a.osBoot };
}

/**
 * The random values of a sample, drawn in one order from a PRNG seeded by (host, boot, seq):
 * the same record at every (re-)send, in {@link sampleBody} and {@link sampleText} alike.
 */
function sampleDraws(a, boot, seq) {
  const r = prng(hash32(a.host) ^ hash32(boot) ^ Math.imul(seq + 1, 2654435761));
  const rnd = (x, y) => x + r() * (y - x);
  const ri = (x, y) => Math.floor(rnd(x, y));
  const used = ri(2 * GB, 6 * GB);
  const d1u = ri(50 * GB, 200 * GB);
  const d2u = ri(100 * GB, 900 * GB);
  const rtt = rnd(0.3, 3);
  return {
    used,
    d1u,
    d2u,
    rtt,
    usage: Math.round(rnd(1, 95) * 10) / 10,
    load1: Math.round(rnd(0, 4) * 100) / 100,
    load5: Math.round(rnd(0, 3) * 100) / 100,
    load15: Math.round(rnd(0, 2) * 100) / 100,
    swapUsed: ri(0, 512 * 1024 * 1024),
    rx0: ri(1000, 5e6),
    tx0: ri(1000, 2e6),
    drop0: ri(0, 5),
    rx1: ri(0, 1e5),
    tx1: ri(0, 5e4),
  };
}

/** A realistic ~1 KB sample body (everything but `sent`), identical for the same (host, boot, seq). */
export function sampleBody(a, boot, seq, t, intervalS) {
  const { used, d1u, d2u, rtt, usage, load1, load5, load15, swapUsed, rx0, tx0, drop0, rx1, tx1 } = sampleDraws(a, boot, seq);
  const memTotal = 8 * GB;
  const d1t = 256 * GB;
  const d2t = 1024 * GB;
  return {
    v: 1,
    site: a.site,
    host: a.host,
    boot,
    seq,
    t,
    interval: intervalS,
    metrics: {
      cpu: { usage, load1, load5, load15, cores: 4 },
      mem: { total: memTotal, used, available: memTotal - used, swapTotal: 2 * GB, swapUsed },
      disks: [
        { mount: '/', fs: 'ext4', total: d1t, used: d1u, free: d1t - d1u, usedPct: Math.round((1000 * d1u) / d1t) / 10 },
        { mount: '/home', fs: 'ext4', total: d2t, used: d2u, free: d2t - d2u, usedPct: Math.round((1000 * d2u) / d2t) / 10 },
      ],
      net: [
        { iface: 'enp3s0', rxBps: rx0, txBps: tx0, rxErrors: 0, txErrors: 0, rxDropped: drop0, txDropped: 0 },
        { iface: 'wlp2s0', rxBps: rx1, txBps: tx1, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 },
      ],
      uptime: { seconds: Math.max(0, Math.round((t - a.osBoot) / 1000)), bootTime: a.osBoot },
      ping: [
        {
          target: '192.168.1.1',
          role: 'gateway',
          sent: 4,
          lossPct: 0,
          rttMedian: Math.round(rtt * 1000) / 1000,
          rttP95: Math.round(rtt * 1300) / 1000,
          rttMax: Math.round(rtt * 1600) / 1000,
        },
        {
          target: 'dichvucong.gov.vn',
          role: 'configured',
          sent: 4,
          // A healthy line: no loss (a constant 25 % made every site's WAN "congested" in working hours).
          lossPct: 0,
          rttMedian: Math.round(rtt * 12000) / 1000,
          rttP95: Math.round(rtt * 15000) / 1000,
          rttMax: Math.round(rtt * 19000) / 1000,
        },
      ],
    },
  };
}

/**
 * The same record as `JSON.stringify({ ...sampleBody(a, boot, seq, t, intervalS), sent })`,
 * byte for byte (test/unit/bench/sim-agent.test.ts), written as text: the generators share
 * the benchmark's two cores with the collector, and building the object then serialising
 * it was a third of their CPU.
 */
export function sampleText(a, boot, seq, t, intervalS, sent) {
  const { used, d1u, d2u, rtt, usage, load1, load5, load15, swapUsed, rx0, tx0, drop0, rx1, tx1 } = sampleDraws(a, boot, seq);
  const memTotal = 8 * GB;
  const d1t = 256 * GB;
  const d2t = 1024 * GB;
  const up = Math.max(0, Math.round((t - a.osBoot) / 1000));
  a.jsonHead ??= `{"v":1,"site":${JSON.stringify(a.site)},"host":${JSON.stringify(a.host)},"boot":`;
  return (
    `${a.jsonHead}${JSON.stringify(boot)},"seq":${seq},"t":${t},"interval":${intervalS},"metrics":{` +
    `"cpu":{"usage":${usage},"load1":${load1},"load5":${load5},"load15":${load15},"cores":4},` +
    `"mem":{"total":${memTotal},"used":${used},"available":${memTotal - used},"swapTotal":${2 * GB},"swapUsed":${swapUsed}},` +
    `"disks":[{"mount":"/","fs":"ext4","total":${d1t},"used":${d1u},"free":${d1t - d1u},"usedPct":${Math.round((1000 * d1u) / d1t) / 10}},` +
    `{"mount":"/home","fs":"ext4","total":${d2t},"used":${d2u},"free":${d2t - d2u},"usedPct":${Math.round((1000 * d2u) / d2t) / 10}}],` +
    `"net":[{"iface":"enp3s0","rxBps":${rx0},"txBps":${tx0},"rxErrors":0,"txErrors":0,"rxDropped":${drop0},"txDropped":0},` +
    `{"iface":"wlp2s0","rxBps":${rx1},"txBps":${tx1},"rxErrors":0,"txErrors":0,"rxDropped":0,"txDropped":0}],` +
    `"uptime":{"seconds":${up},"bootTime":${a.osBoot}},` +
    `"ping":[{"target":"192.168.1.1","role":"gateway","sent":4,"lossPct":0,"rttMedian":${Math.round(rtt * 1000) / 1000},"rttP95":${Math.round(rtt * 1300) / 1000},"rttMax":${Math.round(rtt * 1600) / 1000}},` +
    `{"target":"dichvucong.gov.vn","role":"configured","sent":4,"lossPct":0,"rttMedian":${Math.round(rtt * 12000) / 1000},"rttP95":${Math.round(rtt * 15000) / 1000},"rttMax":${Math.round(rtt * 19000) / 1000}}]}` +
    `,"sent":${sent}}`
  );
}

/** Log-scale histogram of milliseconds (1.1 ratio buckets): bounded memory, mergeable. */
export class MsHistogram {
  constructor(counts = {}) {
    this.counts = counts;
  }
  add(ms) {
    const b = ms <= 1 ? 0 : Math.ceil(Math.log(ms) / Math.log(1.1));
    this.counts[b] = (this.counts[b] ?? 0) + 1;
  }
  merge(other) {
    for (const [k, v] of Object.entries(other.counts ?? other)) this.counts[k] = (this.counts[k] ?? 0) + v;
  }
  get n() {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
  /** Upper bound (ms) of the bucket holding quantile q. */
  quantile(q) {
    const n = this.n;
    if (!n) return NaN;
    const keys = Object.keys(this.counts)
      .map(Number)
      .sort((a, b) => a - b);
    let seen = 0;
    for (const k of keys) {
      seen += this.counts[k];
      if (seen >= q * n) return 1.1 ** k;
    }
    return 1.1 ** keys.at(-1);
  }
}

/** Counters shared by every agent of one generator process. */
export function newStats() {
  return {
    offered: 0,
    acked: 0,
    resent: 0,
    sends: 0,
    msgs: 0,
    batches: 0,
    overflow: 0,
    rejected: 0,
    pubErrors: 0,
    connects: 0,
    connectErrors: 0,
    ackMsgs: 0,
    badAcks: 0,
    rtt: new MsHistogram(),
  };
}

export class SimAgent {
  /**
   * @param spec {site, host, username, password}
   * @param o {url, protocolVersion, inflight, ackTimeoutMs, ackTimeoutMaxMs, outboxMax,
   *           replayPerSecond, intervalS, keepalive, reconnectMs, decodeAck}
   * @param stats newStats() of the process
   */
  constructor(spec, o, stats) {
    Object.assign(this, spec);
    this.o = o;
    this.stats = stats;
    this.boot = randomBytes(12).toString('base64url');
    this.seq = 0;
    this.osBoot = Date.now() - Math.floor(3600e3 + Math.random() * 30 * 86400e3);
    this.topic = `canh/v1/${spec.site}/${spec.host}/samples`;
    this.eventTopic = `canh/v1/${spec.site}/${spec.host}/events`;
    this.statusTopic = `canh/v1/${spec.site}/${spec.host}/status`;
    this.ackTopic = `canh/v1/${spec.site}/${spec.host}/ack`;
    /** key `${boot}:${seq}` → record {boot, seq, t, kind, body?, sentAt, inflight}. Map order = append order. */
    this.outbox = new Map();
    /** Records never sent since the last (re)connection, in order; live ones are at the end. */
    this.live = [];
    this.backlog = [];
    this.inflightN = 0;
    this.timeoutMs = o.ackTimeoutMs;
    // The agent's congestion window (publisher.ts): records on the wire, cut at a timeout.
    this.lostN = 0; // in flight, given up for lost, not yet sent again
    this.cwnd = Infinity;
    this.ssthresh = Infinity;
    this.lastCutAt = -Infinity;
    this.replayTokens = 0;
    this.replayAt = Date.now();
    this.connected = false;
    this.poweredOff = false;
    /** Per boot: records offered (seqs 0..n-1), for the loss check against the SQLite file. */
    this.ledger = new Map([[this.boot, 0]]);
    this.client = undefined;
    /** Records per message: 1 until the collector announces batches on this connection. */
    this.batchMax = o.forceBatch ?? 1;
    /** Records sent in this turn of the event loop, published packed at its end ({@link flush}). */
    this.out = [];
  }

  status(state) {
    return JSON.stringify(statusBody(this, state, Date.now(), { hostname: this.host.toUpperCase(), keepalive: this.o.keepalive }));
  }

  connect() {
    const o = this.o;
    this.client = mqtt.connect(o.url, {
      username: this.username,
      password: this.password,
      clientId: `${this.site}.${this.host}`, // as the agent (contract/topics.ts agentClientId): the embedded broker binds it to the credential
      protocolVersion: o.protocolVersion,
      clean: false,
      ...(o.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 24 * 3600 } } : {}),
      keepalive: o.keepalive,
      // Spread reconnects (a returning embedded collector meets thousands of agents).
      reconnectPeriod: Math.round(o.reconnectMs * (0.75 + Math.random() * 0.5)),
      connectTimeout: 60_000,
      queueQoSZero: false,
      writeCache: false,
      will: { topic: this.statusTopic, payload: Buffer.from(this.status('offline')), qos: 1, retain: true },
    });
    const c = this.client;
    // As the agent (agent/transport/publisher.ts): each session's will carries its own connect time.
    c.on('reconnect', () => {
      c.options.will = { ...c.options.will, payload: Buffer.from(this.status('offline')) };
    });
    c.on('connect', () => {
      this.stats.connects++;
      this.connected = true;
      this.batchMax = this.o.forceBatch ?? 1;
      c.subscribe(this.ackTopic, { qos: 0 }, (err) => {
        if (err) this.stats.connectErrors++;
      });
      c.publish(this.statusTopic, this.status('online'), { qos: 1, retain: true }, () => {});
      // Everything unacked is backlog again after a (re)connection, oldest first.
      const all = [...this.outbox.values()];
      for (const r of all) {
        r.inflight = false;
        r.lost = false;
      }
      this.inflightN = 0;
      this.lostN = 0;
      this.cwnd = Infinity;
      this.ssthresh = Infinity;
      this.live = [];
      this.backlog = all;
      this.pump();
    });
    c.on('close', () => {
      this.connected = false;
    });
    c.on('error', () => {
      this.stats.connectErrors++;
    });
    c.on('message', (topic, payload) => {
      if (topic === this.ackTopic) this.onAck(payload);
    });
  }

  /** A new record (sample, or an event body) into the outbox; send now if the window allows. */
  append(kind, body) {
    const rec = { boot: this.boot, seq: this.seq++, t: Date.now(), kind, body, sentAt: 0, firstSentAt: 0, inflight: false };
    this.ledger.set(this.boot, (this.ledger.get(this.boot) ?? 0) + 1);
    this.stats.offered++;
    if (this.outbox.size >= this.o.outboxMax) {
      // Bounded outbox: the oldest record goes (counted: it is lost for good).
      const [k, old] = this.outbox.entries().next().value;
      this.outbox.delete(k);
      if (old.inflight) this.inflightN--;
      if (old.lost) this.lostN--;
      this.stats.overflow++;
    }
    this.outbox.set(`${rec.boot}:${rec.seq}`, rec);
    this.live.push(rec);
    this.pump();
  }

  sample() {
    if (!this.poweredOff) this.append('samples');
  }

  payloadOf(rec, now) {
    if (rec.kind === 'samples') return sampleText(this, rec.boot, rec.seq, rec.t, this.o.intervalS, now);
    return JSON.stringify({ ...rec.body, sent: now });
  }

  send(rec) {
    const now = Date.now();
    if (rec.sentAt) {
      this.stats.resent++;
      rec.resent = true;
    } else rec.firstSentAt = now;
    if (rec.lost) {
      rec.lost = false;
      this.lostN--;
    }
    rec.sentAt = now;
    this.lastSendAt = now;
    if (!rec.inflight) {
      rec.inflight = true;
      this.inflightN++;
    }
    this.stats.sends++;
    this.out.push(rec);
    if (this.out.length === 1) queueMicrotask(() => this.flush());
  }

  /** Publish the records sent in this turn: packed per topic when batches are on, else one per message. */
  flush() {
    const recs = this.out.splice(0);
    const c = this.client;
    if (!c || !recs.length) return;
    const now = Date.now();
    const byTopic = new Map();
    for (const r of recs) {
      const t = r.kind === 'samples' ? this.topic : this.eventTopic;
      if (!byTopic.has(t)) byTopic.set(t, []);
      byTopic.get(t).push(r);
    }
    const max = Math.max(1, Math.min(this.batchMax, this.o.batchRecords ?? 64));
    for (const [topic, list] of byTopic) {
      let parts = [];
      let keys = [];
      let bytes = 0;
      const emit = () => {
        if (!parts.length) return;
        const payload = parts.length === 1 ? parts[0] : `{"v":1,"records":[${parts.join(',')}]}`;
        const mine = keys;
        this.stats.msgs++;
        if (parts.length > 1) this.stats.batches++;
        c.publish(topic, payload, { qos: 1 }, (err) => {
          // PUBACK: transport only. The records stay until the collector's ack; only the
          // mosquitto_sub baseline (no collector, nobody acks) counts the PUBACK.
          if (err) this.stats.pubErrors++;
          else if (this.o.pubackIsAck) for (const k of mine) this.release(k, Date.now());
        });
        parts = [];
        keys = [];
        bytes = 0;
      };
      for (const r of list) {
        const body = this.payloadOf(r, now);
        if (parts.length && (parts.length >= max || bytes + body.length + 1 > 64 * 1024 - 32)) emit();
        parts.push(body);
        keys.push(`${r.boot}:${r.seq}`);
        bytes += body.length + 1;
      }
      emit();
    }
  }

  /** Records allowed on the wire: the congestion window within `inflight` (publisher.ts). */
  window() {
    return Math.max(1, Math.min(this.o.inflight, Math.floor(this.cwnd)));
  }

  /**
   * Live first, then what was given up for lost, then backlog at replayPerSecond; never more
   * than `inflight` unacked, nor more than the congestion window on the wire.
   */
  pump() {
    if (!this.connected || this.poweredOff) return;
    const W = this.o.inflight;
    const win = this.window();
    while (this.live.length && this.inflightN < W && this.inflightN - this.lostN < win) {
      const r = this.live.shift();
      if (!r.inflight && this.outbox.has(`${r.boot}:${r.seq}`)) this.send(r);
    }
    if (this.lostN > 0 && this.inflightN - this.lostN < win) {
      for (const r of this.outbox.values()) {
        if (this.inflightN - this.lostN >= win) break;
        if (r.lost) this.send(r);
      }
    }
    if (!this.backlog.length || this.inflightN >= W || this.inflightN - this.lostN >= win) return;
    const now = Date.now();
    const rate = this.o.replayPerSecond;
    this.replayTokens = Math.min(rate, this.replayTokens + ((now - this.replayAt) / 1000) * rate);
    this.replayAt = now;
    while (this.backlog.length && this.inflightN < W && this.inflightN - this.lostN < win && this.replayTokens >= 1) {
      const r = this.backlog.shift();
      if (r.inflight || !this.outbox.has(`${r.boot}:${r.seq}`)) continue;
      this.replayTokens--;
      this.send(r);
    }
  }

  onAck(payload) {
    const ack = this.o.decodeAck(payload);
    if (!ack) {
      this.stats.badAcks++;
      return;
    }
    this.stats.ackMsgs++;
    if (this.o.forceBatch === undefined) this.batchMax = ack.batch ?? 1;
    const now = Date.now();
    let freed = 0;
    const drop = (key) => {
      if (this.release(key, now, false)) freed++;
    };
    for (const a of ack.acks) {
      for (const [from, to] of a.ranges) {
        if (to - from < this.outbox.size) for (let s = from; s <= to; s++) drop(`${a.boot}:${s}`);
        else for (const r of [...this.outbox.values()]) if (r.boot === a.boot && r.seq >= from && r.seq <= to) drop(`${r.boot}:${r.seq}`);
      }
    }
    for (const r of ack.rejected ?? []) {
      if (this.outbox.has(`${r.boot}:${r.seq}`)) this.stats.rejected++;
      drop(`${r.boot}:${r.seq}`);
    }
    if (freed) this.pump();
  }

  /** Remove an acked record from the outbox; false when it was gone already (acked twice). */
  release(key, now, pump = true) {
    const r = this.outbox.get(key);
    if (!r) return false;
    this.outbox.delete(key);
    if (r.inflight) this.inflightN--;
    if (r.lost) this.lostN--;
    if (this.cwnd < this.o.inflight) this.cwnd = Math.min(this.o.inflight, this.cwnd + (this.cwnd < this.ssthresh ? 1 : 1 / this.cwnd));
    if (r.sentAt) this.stats.rtt.add(now - r.sentAt);
    // The agent's round-trip estimate (publisher.ts, RFC 6298 with Karn's rule).
    if (r.sentAt && !r.resent) {
      this.timeoutMs = this.o.ackTimeoutMs; // back to the base only on a record sent once (Karn)
      const x = now - r.sentAt;
      if (this.srtt === undefined) {
        this.srtt = x;
        this.rttvar = x / 2;
      } else {
        this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - x);
        this.srtt = 0.875 * this.srtt + 0.125 * x;
      }
    }
    this.stats.acked++;
    if (pump) this.pump();
    return true;
  }

  /** Called about once a second: re-send what stayed unacked past the ack timeout; refill the replay. */
  tick(now) {
    if (!this.connected || this.poweredOff) return;
    if (this.inflightN) {
      // The base timeout (doubled while no ack comes), or the measured round trip when longer.
      const timeout = Math.min(this.o.ackTimeoutMaxMs, Math.max(this.timeoutMs, this.srtt === undefined ? 0 : this.srtt + 4 * this.rttvar));
      // Timed out: given up for lost (sent again by pump() as the congestion window allows),
      // and the window cut to one record, at most once per timeout (publisher.ts).
      let onWire = 0;
      let lost = 0;
      for (const r of this.outbox.values()) {
        if (!r.inflight || r.lost) continue;
        onWire++;
        if (now - r.sentAt >= timeout) {
          r.lost = true;
          this.lostN++;
          lost++;
        }
      }
      if (lost) {
        if (now - this.lastCutAt >= timeout) {
          this.lastCutAt = now;
          this.ssthresh = Math.max(2, Math.floor(onWire / 2));
          this.cwnd = 1;
        }
        // No ack within the timeout: back off (30 s → 300 s) until one comes.
        this.timeoutMs = Math.min(this.o.ackTimeoutMaxMs, this.timeoutMs * 2);
      }
      // Persist probe (publisher.ts): window full and nothing sent for an interval → the
      // oldest record in flight goes again, so the collector hears this agent once per interval.
      const waiting = this.live.length > 0 || this.backlog.length > 0 || this.lostN > 0;
      const full = this.inflightN >= this.o.inflight || (this.inflightN - this.lostN >= this.window() && waiting);
      if (full && now - (this.lastSendAt ?? 0) >= this.o.intervalS * 1000) {
        this.lastSendAt = now;
        for (const r of this.outbox.values()) {
          if (r.inflight) {
            this.stats.probes = (this.stats.probes ?? 0) + 1;
            this.send(r);
            break;
          }
        }
      }
    }
    this.pump();
  }

  /** The PC loses power: the socket dies without DISCONNECT (the broker fires the Will). */
  powerCut() {
    if (this.poweredOff) return;
    this.poweredOff = true;
    this.cutAt = Date.now();
    const c = this.client;
    this.client = undefined;
    this.connected = false;
    if (c) {
      c.options.reconnectPeriod = 0;
      c.stream?.destroy();
      setTimeout(() => c.end(true), 100).unref?.();
    }
  }

  /** Power back: a new OS boot and a new agent boot; the outbox survived (on disk); an `outage` event. */
  powerRestore(bootDelayMs = 20_000) {
    if (!this.poweredOff) return;
    const now = Date.now();
    const previousRun = this.boot;
    const previousOsBoot = this.osBoot;
    this.osBoot = Math.max(this.cutAt + 1000, now - bootDelayMs);
    this.boot = randomBytes(12).toString('base64url');
    this.seq = 0;
    this.ledger.set(this.boot, 0);
    this.timeoutMs = this.o.ackTimeoutMs;
    this.poweredOff = false;
    const start = this.cutAt;
    const end = this.osBoot;
    this.connect();
    this.append('events', {
      v: 1,
      site: this.site,
      host: this.host,
      boot: this.boot,
      seq: this.seq, // replaced below: append assigns the seq
      t: now,
      type: 'outage',
      severity: 'critical',
      message: 'power lost (PC restarted without shutting down)',
      start,
      end,
      details: {
        evidence: 'none',
        scope: 'host',
        cause: 'power_loss',
        uncertaintyMs: this.o.intervalS * 1000,
        durationMs: end - start,
        previousRun,
        lastHeartbeat: start,
        previousOsBoot,
        osBoot: end,
      },
    });
    // append() gave the record its seq; the body must carry the same one.
    const last = [...this.outbox.values()].at(-1);
    last.body = { ...last.body, seq: last.seq, boot: last.boot };
  }

  /** Clean stop like the real agent's: retained "offline", then DISCONNECT (no Will: not an outage). */
  async end() {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    if (c.connected) await c.publishAsync(this.statusTopic, this.status('offline'), { qos: 1, retain: true }).catch(() => {});
    await Promise.race([c.endAsync(false).catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    c.end(true);
  }
}
