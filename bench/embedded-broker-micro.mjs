#!/usr/bin/env node
// Investigation aid for the embedded broker at province scale (issue 12): the two aedes
// costs that grew with the number of agents, stock vs Canh's replacement, side by side.
//   1. A SUBSCRIBE's retained lookup: every agent subscribes to its ack, config and update
//      topics at each connect while the broker holds a status and a config per PC
//      (aedes-persistence's memory store tests every retained message against each filter;
//      collector/broker/retained-index.ts looks exact filters up by topic).
//   2. aedes' message queue (mqemitter) when more messages wait than its concurrency
//      (agents slow to drain): Array.shift per message vs collector/broker/fifo.ts.
//   node bench/embedded-broker-micro.mjs   (after npm run build)
//   BENCH_RETAINED_PCS=10000 BENCH_SUBSCRIBES=300 BENCH_QUEUED=100000
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fmt, median, ROOT, runMain, table } from './lib.mjs';

const PCS = Number(process.env.BENCH_RETAINED_PCS ?? 10_000);
const SUBS = Number(process.env.BENCH_SUBSCRIBES ?? 300);
const QUEUED = Number(process.env.BENCH_QUEUED ?? 100_000);
const RUNS = 3;

async function main() {
  const require = createRequire(join(ROOT, 'package.json'));
  const stock = require('aedes-persistence');
  const { Aedes } = await import(join(ROOT, 'node_modules/aedes/aedes.js'));
  const { indexedMemoryPersistence } = await import(join(ROOT, 'dist/collector/broker/retained-index.js'));
  const { queueInFifo } = await import(join(ROOT, 'dist/collector/broker/fifo.js'));

  const subscribeMs = async (make) => {
    const p = make();
    for (let i = 0; i < PCS; i++) {
      const base = `canh/v1/xa-${Math.floor(i / 20)}/pc-${i % 20}`;
      await p.storeRetained({ topic: `${base}/status`, payload: Buffer.from('{"state":"online"}') });
      await p.storeRetained({ topic: `${base}/config`, payload: Buffer.from('{"v":1}') });
    }
    const t = performance.now();
    let delivered = 0;
    for (let i = 0; i < SUBS; i++) {
      const base = `canh/v1/xa-${Math.floor(i / 20)}/pc-${i % 20}`;
      for await (const _ of p.createRetainedStreamCombi([`${base}/ack`, `${base}/config`, `${base}/update`])) delivered++;
    }
    if (delivered !== SUBS) throw new Error(`${delivered} retained configs delivered for ${SUBS} SUBSCRIBEs`);
    return (performance.now() - t) / SUBS;
  };
  const drainMs = async (fifo) => {
    const aedes = await Aedes.createBroker({ concurrency: 100 });
    if (fifo && !queueInFifo(aedes.mq)) throw new Error('queueInFifo refused');
    let got = 0;
    aedes.mq.on('canh/bench', (_p, done) => {
      got++;
      setImmediate(done); // an agent slow to drain
    });
    const t = performance.now();
    for (let i = 0; i < QUEUED; i++) aedes.mq.emit({ topic: 'canh/bench', payload: Buffer.from('x') });
    await new Promise((r) => {
      const check = () => (got === QUEUED ? r() : setTimeout(check, 5));
      check();
    });
    const ms = performance.now() - t;
    await new Promise((r) => aedes.close(r));
    return ms;
  };
  const r = { stockSub: [], indexSub: [], arrayQ: [], fifoQ: [] };
  for (let i = 0; i < RUNS; i++) {
    r.stockSub.push(await subscribeMs(stock));
    r.indexSub.push(await subscribeMs(indexedMemoryPersistence));
    r.arrayQ.push(await drainMs(false));
    r.fifoQ.push(await drainMs(true));
  }
  console.log(
    table([
      [`median of ${RUNS}`, 'aedes stock', 'Canh', 'ratio'],
      [`SUBSCRIBE of 3 filters, ${2 * PCS} retained (ms)`, fmt(median(r.stockSub), 3), fmt(median(r.indexSub), 3), fmt(median(r.stockSub) / median(r.indexSub), 0)],
      [`  × 10,000 agents' connects (s of the loop)`, fmt((median(r.stockSub) * 10_000) / 1000, 1), fmt((median(r.indexSub) * 10_000) / 1000, 1), ''],
      [`${QUEUED} messages queued behind a slow subscriber, drained (ms)`, fmt(median(r.arrayQ), 0), fmt(median(r.fifoQ), 0), fmt(median(r.arrayQ) / median(r.fifoQ), 0)],
    ]),
  );
  const perAgent = median(r.indexSub);
  console.log(
    `HEADLINE retained lookup ${fmt(perAgent, 3)} ms per agent SUBSCRIBE with ${2 * PCS} retained (target: 10,000 connects within 1 s of the loop): ${perAgent * 10_000 <= 1000 ? 'PASS' : 'FAIL'}`,
  );
}

runMain(main);
