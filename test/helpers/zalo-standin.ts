/**
 * A local stand-in for Zalo's cloud APIs (the one thing tests cannot run for real), on
 * loopback, implementing the documented request and response shapes:
 *
 * - Zalo Bot API: `POST /bot<TOKEN>/sendMessage`, JSON `{chat_id, text}` → `{ok: true,
 *   result: {message_id, date, chat, text}}`; errors `{ok: false, error_code, description}`
 *   (unknown token 401, text over 2,000 characters or missing fields 400).
 * - Zalo OA group message: `POST /v3.0/oa/group/message`, header `access_token`, JSON
 *   `{recipient: {group_id}, message: {text}}` → HTTP 200 `{error: 0, message: "Success",
 *   data: {message_id}}`; errors also with HTTP 200: `{error: -216, message: "Access token
 *   is invalid"}`, `{error: -201, message: "Parameters are invalid"}`.
 * - OAuth refresh: `POST /v4/oa/access_token`, header `secret_key`, form `app_id`,
 *   `grant_type=refresh_token`, `refresh_token` → `{access_token, refresh_token,
 *   expires_in: "90000"}`; a refresh token works once (as Zalo's); errors `{error: -14014, …}`.
 *
 * Faults are programmable per API (`failNext`): an HTTP status (5xx, 429), an API error
 * body, a hang (no answer until stop: a timeout for the client), a reset connection, a
 * delay. Accepted messages are recorded. Used by the notifier tests, and by the alerting
 * e2e test and bench (`bench:alert`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type ZaloApi = 'bot' | 'oa' | 'oauth';

export type ZaloFault =
  /** Answer with this HTTP status (and body, default a short JSON error). */
  | { kind: 'status'; status: number; body?: string; retryAfter?: number }
  /** Bot API `{ok:false, error_code, description}` (HTTP status = error_code unless given). */
  | { kind: 'bot_error'; error_code: number; description: string; status?: number }
  /** OA API error body with HTTP 200, e.g. `{error: -216, message: "Access token is invalid"}`. */
  | { kind: 'oa_error'; error: number; message: string }
  /** Never answer (until stop): the client's timeout must fire. */
  | { kind: 'hang' }
  /** Destroy the connection without an answer. */
  | { kind: 'reset' }
  /** Wait, then handle the request normally. */
  | { kind: 'delay'; ms: number };

export interface BotMessage {
  token: string;
  chatId: string;
  text: string;
  messageId: string;
  at: number;
}

export interface OaMessage {
  groupId: string;
  text: string;
  accessToken: string;
  messageId: string;
  at: number;
}

export interface ZaloStandinOptions {
  /** Bot tokens the Bot API accepts. */
  botTokens?: string[];
  oa?: { appId: string; secret: string; accessToken: string; refreshToken: string };
  host?: string;
}

export class ZaloStandin {
  readonly botMessages: BotMessage[] = [];
  readonly oaMessages: OaMessage[] = [];
  /** Refresh requests answered with a new pair. */
  refreshes = 0;
  /** Every refresh request (good or bad). */
  refreshRequests: Array<{ appId: string; refreshToken: string; secretKey: string; grantType: string }> = [];
  /** Every request path, in order (the bot token is part of it). */
  readonly requests: Array<{ api: ZaloApi | 'unknown'; path: string; at: number }> = [];
  private readonly faults: Record<ZaloApi, ZaloFault[]> = { bot: [], oa: [], oauth: [] };
  private readonly botTokens: Set<string>;
  private oa: { appId: string; secret: string; accessToken: string; refreshToken: string } | undefined;
  private validAccess = new Set<string>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private seq = 0;
  private port = 0;

  constructor(private readonly opts: ZaloStandinOptions = {}) {
    this.botTokens = new Set(opts.botTokens ?? []);
    this.oa = opts.oa && { ...opts.oa };
    if (this.oa) this.validAccess.add(this.oa.accessToken);
  }

  get url(): string {
    return `http://${this.opts.host ?? '127.0.0.1'}:${this.port}`;
  }

  /** Current OA pair (after refreshes). */
  get oaTokens(): { accessToken: string; refreshToken: string } | undefined {
    return this.oa && { accessToken: this.oa.accessToken, refreshToken: this.oa.refreshToken };
  }

  /** Queues faults for the next requests of `api` (one fault per request, in order). */
  failNext(api: ZaloApi, ...faults: ZaloFault[]): void {
    this.faults[api].push(...faults);
  }

  /** Drops the faults not yet used. */
  clearFaults(): void {
    for (const k of Object.keys(this.faults) as ZaloApi[]) this.faults[k] = [];
  }

  /** The current OA access token stops working (as after its ~25 h life): the next send gets -216. */
  expireAccessToken(): void {
    this.validAccess.clear();
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '').split('?')[0]!;
    const bot = /^\/bot([^/]+)\/sendMessage$/.exec(path);
    const api: ZaloApi | 'unknown' = bot ? 'bot' : path === '/v3.0/oa/group/message' ? 'oa' : path === '/v4/oa/access_token' ? 'oauth' : 'unknown';
    this.requests.push({ api, path, at: Date.now() });
    if (req.method !== 'POST' || api === 'unknown') return this.json(res, 404, { error: 404, message: 'not found' });

    let fault = this.faults[api].shift();
    if (fault?.kind === 'delay') {
      await new Promise((r) => setTimeout(r, fault && fault.kind === 'delay' ? fault.ms : 0));
      fault = undefined;
    }
    if (fault) {
      switch (fault.kind) {
        case 'hang':
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'status':
          res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {}) });
          res.end(fault.body ?? JSON.stringify({ error: fault.status, message: 'stand-in fault' }));
          return;
        case 'bot_error':
          return this.json(res, fault.status ?? fault.error_code, { ok: false, error_code: fault.error_code, description: fault.description });
        case 'oa_error':
          return this.json(res, 200, { error: fault.error, message: fault.message });
      }
    }
    if (api === 'bot') return this.bot(bot![1]!, req, body, res);
    if (api === 'oa') return this.oaMessage(req, body, res);
    return this.refresh(req, body, res);
  }

  private bot(token: string, req: IncomingMessage, body: string, res: ServerResponse): void {
    if (!this.botTokens.has(token)) return this.json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    if (!(req.headers['content-type'] ?? '').includes('application/json'))
      return this.json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: content-type must be application/json' });
    let p: { chat_id?: unknown; text?: unknown };
    try {
      p = JSON.parse(body) as typeof p;
    } catch {
      return this.json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: invalid JSON' });
    }
    if (typeof p.chat_id !== 'string' || !p.chat_id) return this.json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: chat_id is required' });
    if (typeof p.text !== 'string' || !p.text) return this.json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: text is required' });
    if ([...p.text].length > 2000) return this.json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: text is too long' });
    const messageId = `bot-${++this.seq}`;
    const at = Date.now();
    this.botMessages.push({ token, chatId: p.chat_id, text: p.text, messageId, at });
    this.json(res, 200, { ok: true, result: { message_id: messageId, date: at, chat: { id: p.chat_id, chat_type: 'GROUP' }, text: p.text, message_type: 'CHAT_MESSAGE' } });
  }

  private oaMessage(req: IncomingMessage, body: string, res: ServerResponse): void {
    const token = req.headers['access_token'];
    if (typeof token !== 'string' || !this.validAccess.has(token)) return this.json(res, 200, { error: -216, message: 'Access token is invalid' });
    let p: { recipient?: { group_id?: unknown }; message?: { text?: unknown } };
    try {
      p = JSON.parse(body) as typeof p;
    } catch {
      return this.json(res, 200, { error: -201, message: 'Parameters are invalid' });
    }
    const groupId = p.recipient?.group_id;
    const text = p.message?.text;
    if (typeof groupId !== 'string' || !groupId || typeof text !== 'string' || !text || [...text].length > 2000) {
      return this.json(res, 200, { error: -201, message: 'Parameters are invalid' });
    }
    const messageId = `oa-${++this.seq}`;
    this.oaMessages.push({ groupId, text, accessToken: token, messageId, at: Date.now() });
    this.json(res, 200, { error: 0, message: 'Success', data: { message_id: messageId } });
  }

  private refresh(req: IncomingMessage, body: string, res: ServerResponse): void {
    const form = new URLSearchParams(body);
    const secretKey = typeof req.headers['secret_key'] === 'string' ? req.headers['secret_key'] : '';
    const r = { appId: form.get('app_id') ?? '', refreshToken: form.get('refresh_token') ?? '', secretKey, grantType: form.get('grant_type') ?? '' };
    this.refreshRequests.push(r);
    const oa = this.oa;
    if (!oa || r.appId !== oa.appId || r.secretKey !== oa.secret) {
      return this.json(res, 200, { error_name: 'Invalid app', error_reason: 'app_id or secret_key is invalid', error_description: 'Invalid app', error: -14001 });
    }
    if (r.grantType !== 'refresh_token' || r.refreshToken !== oa.refreshToken) {
      return this.json(res, 200, {
        error_name: 'Invalid parameter',
        error_reason: 'Invalid refresh token',
        error_description: 'Refresh token is invalid or was already used',
        error: -14014,
      });
    }
    this.refreshes++;
    oa.accessToken = `oa-access-${this.refreshes}-${Math.random().toString(36).slice(2, 10)}`;
    oa.refreshToken = `oa-refresh-${this.refreshes}-${Math.random().toString(36).slice(2, 10)}`;
    this.validAccess = new Set([oa.accessToken]);
    this.json(res, 200, { access_token: oa.accessToken, refresh_token: oa.refreshToken, expires_in: '90000' });
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }
}
