import { hostname, userInfo } from 'node:os';
import type { AuditEntry } from '../collector/audit/audit-log.js';

/** Who runs a CLI command that changes credentials or tokens, for the audit log (issue 14 item 8): the OS user, from this machine. */
export function cliActor(): Pick<AuditEntry, 'actor' | 'via' | 'client'> {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry (a container): unknown */
  }
  // Under sudo, who typed it matters more than root.
  if (process.env.SUDO_USER) user = `${user} (sudo by ${process.env.SUDO_USER.slice(0, 64)})`;
  return { actor: `cli ${user}`, via: 'cli', client: hostname() };
}
