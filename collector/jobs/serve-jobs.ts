import { parentPort } from 'node:worker_threads';
import type { JobReplyMessage, JobRequestMessage } from './job-protocol.js';

/** What a worker does for each job kind: a (possibly async) function of the payload. */
export type JobHandlers = Record<string, (payload: never) => unknown>;

/**
 * The worker side of collector/jobs/worker-pool.ts: answers each job message with its
 * handler's result (a structured clone) or its error (name, message and the error's own
 * enumerable fields, e.g. `site` of UnknownSiteError). One job at a time per worker.
 */
export function serveJobs(handlers: JobHandlers): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs: not running in a worker thread');
  port.on('message', (msg: JobRequestMessage) => {
    void (async () => {
      let reply: JobReplyMessage;
      try {
        const h = handlers[msg.kind];
        if (!h) throw new Error(`unknown job kind "${msg.kind}"`);
        reply = { id: msg.id, ok: true, result: await h(msg.payload as never) };
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        const data: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(e)) if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) data[k] = v;
        reply = { id: msg.id, ok: false, error: { name: e.name, message: e.message, data } };
      }
      port.postMessage(reply);
    })();
  });
}
