import { createHash } from 'node:crypto';

/**
 * Dedup key of an alert: the same (rule, site, host, key) is the same alert however often
 * a rule reports it (Alertmanager's fingerprint of the label set).
 */
export function fingerprint(rule: string, site: string, host: string | null, key: string): string {
  // Separator that cannot occur in ids (slugs) and is unlikely in keys.
  return createHash('sha256')
    .update(`${rule}\u0000${site}\u0000${host ?? ''}\u0000${key}`)
    .digest('hex')
    .slice(0, 16);
}
