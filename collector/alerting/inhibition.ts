/**
 * Inhibition (issue 4): while a site incident is open (power or network cut of most of the
 * site), the alerts of its hosts would only repeat it thirty times. They are kept and their
 * resolution is recorded, but they are not notified.
 */
export interface OpenIncidentView {
  site: string;
  /** Hosts affected; empty = the whole site. */
  hosts: readonly string[];
}

export function isInhibited(incidents: readonly OpenIncidentView[], site: string, host: string | null, siteLevelInhibitable: boolean): boolean {
  for (const inc of incidents) {
    if (inc.site !== site) continue;
    if (host === null) return siteLevelInhibitable;
    if (inc.hosts.length === 0 || inc.hosts.includes(host)) return true;
  }
  return false;
}
