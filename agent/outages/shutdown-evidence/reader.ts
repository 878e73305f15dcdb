import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { runCommand as run } from '../../platform/run-command.js';
import { classifyJournalTail, parseListBoots, previousBoot } from './linux-journal.js';
import { classifyLastOutput } from './linux-wtmp.js';
import { NO_EVIDENCE, type EvidenceQuery, type ShutdownEvidenceReader, type ShutdownFinding } from './shutdown-finding.js';
import { classifyWindowsEvents, parseEventLogJson, windowsEventLogScript } from './windows-event-log.js';

/**
 * Test/platform override (documented in the README): path to a JSON file of event-log records
 * in the shape the Windows reader produces ({@link EventLogRecord}); it replaces the event
 * log / journal / wtmp reader on every platform.
 */
export const EVENT_LOG_OVERRIDE_ENV = 'CANH_AGENT_PLATFORM_EVENT_LOG';

export interface EvidenceReaderOptions {
  platform: NodeJS.Platform;
  log: Logger;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

class EventLogFileReader implements ShutdownEvidenceReader {
  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}
  async read(q: EvidenceQuery): Promise<ShutdownFinding> {
    try {
      return classifyWindowsEvents(parseEventLogJson(await readFile(this.path, 'utf8')), q);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, env: EVENT_LOG_OVERRIDE_ENV }, 'event-log override unreadable; cause unknown');
      return NO_EVIDENCE;
    }
  }
}

class WindowsEventLogReader implements ShutdownEvidenceReader {
  constructor(private readonly opts: EvidenceReaderOptions) {}
  async read(q: EvidenceQuery): Promise<ShutdownFinding> {
    const since = (q.now - q.lastHeartbeat) / 1000 + 600;
    const out = await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', windowsEventLogScript(since)], this.opts.timeoutMs);
    if (out === null) {
      this.opts.log.warn('System event log unreadable; cause unknown');
      return NO_EVIDENCE;
    }
    try {
      return classifyWindowsEvents(parseEventLogJson(out), q);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'System event log output not understood; cause unknown');
      return NO_EVIDENCE;
    }
  }
}

/** Linux: the previous boot's journal when it was kept, else wtmp. */
class LinuxShutdownReader implements ShutdownEvidenceReader {
  constructor(private readonly opts: EvidenceReaderOptions) {}
  async read(q: EvidenceQuery): Promise<ShutdownFinding> {
    const t = this.opts.timeoutMs;
    try {
      const list = await run('journalctl', ['--list-boots', '-o', 'json', '--no-pager'], t);
      const boots = list ? parseListBoots(list) : [];
      const boot = previousBoot(boots, q.previousOsBootId);
      if (boot) {
        const tail = await run('journalctl', ['-b', boot.bootId, '-n', '50', '-o', 'json', '--no-pager'], t);
        const finding = tail ? classifyJournalTail(tail) : null;
        if (finding) return finding;
      }
      const last = await run('last', ['-x', '--time-format', 'iso'], t);
      const fromWtmp = last ? classifyLastOutput(last) : null;
      if (fromWtmp) return fromWtmp;
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'journal/wtmp not understood; cause unknown');
    }
    return NO_EVIDENCE;
  }
}

/** The reader for this platform, or the override file when the env var names one. */
export function createShutdownEvidenceReader(opts: EvidenceReaderOptions): ShutdownEvidenceReader {
  const override = (opts.env ?? process.env)[EVENT_LOG_OVERRIDE_ENV];
  if (override) return new EventLogFileReader(override, opts.log);
  if (opts.platform === 'win32') return new WindowsEventLogReader(opts);
  if (opts.platform === 'linux') return new LinuxShutdownReader(opts);
  return { read: async () => NO_EVIDENCE };
}
