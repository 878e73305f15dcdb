/** Messages between the pool (main thread) and a job worker (collector/jobs/serve-jobs.ts). */
export interface JobRequestMessage {
  id: number;
  kind: string;
  payload: unknown;
}

export type JobReplyMessage = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { name: string; message: string; data?: Record<string, unknown> } };
