import type { Response } from 'express';
import type { ZodError, ZodType } from 'zod';

/** Error codes of docs/api.md, with their HTTP status. */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
} as const;
export type ApiErrorCode = keyof typeof ERROR_STATUS;

export function sendError(res: Response, code: ApiErrorCode, message: string, reasons?: string[]): void {
  res.status(ERROR_STATUS[code]).json(reasons ? { error: code, message, reasons } : { error: code, message });
}

/** One `path: message` line per issue (house style §5). */
export function reasonsOf(err: ZodError): string[] {
  return err.issues.slice(0, 20).map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`);
}

/** Parse or answer 400 with the reasons (ApiContext.parse). */
export function parseOr400<T>(schema: ZodType<T>, value: unknown, res: Response): T | undefined {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  sendError(res, 'bad_request', 'invalid request', reasonsOf(r.error));
  return undefined;
}
