/**
 * A real SMTP server on loopback (the `smtp-server` library, as test/integration/notify-email
 * uses) that keeps every mail it accepts, decoded: for end-to-end tests of the e-mail
 * channel (issue 13: the resolved message reaches the officer by e-mail too).
 */
import { SMTPServer } from 'smtp-server';
import { freePort } from './free-port.js';
import { leaves, parseMime } from './mime.js';

export interface ReceivedMail {
  /** When the server finished receiving it (ms since the epoch). */
  at: number;
  /** RCPT TO addresses. */
  to: string[];
  /** Decoded Subject header. */
  subject: string;
  /** The text/plain part, decoded. */
  text: string;
  raw: string;
}

export interface MailServer {
  port: number;
  readonly mails: ReceivedMail[];
  /** The e-mail channel config (collector `notify.channels[]`) that delivers here. */
  channel(name: string, language?: 'vi' | 'en'): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startMailServer(): Promise<MailServer> {
  const port = await freePort();
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mime = parseMime(raw);
        const plain = leaves(mime).find((p) => p.type === 'text/plain');
        mails.push({
          at: Date.now(),
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: mime.headers.subject ?? '',
          text: plain ? plain.body.toString('utf8') : '',
          raw,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    mails,
    channel: (name, language = 'vi') => ({
      type: 'email',
      name,
      language,
      host: '127.0.0.1',
      port,
      security: 'none',
      from: 'Canh <canh@xa.gov.vn>',
      to: ['it@huyen.gov.vn'],
      timeoutMs: 5000,
    }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
