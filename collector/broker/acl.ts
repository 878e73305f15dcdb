/**
 * What each MQTT identity may do (the embedded broker's ACL, credentials.ts answering it;
 * the exported Mosquitto configuration states the same, mosquitto-config.ts): which client
 * id it may use, where it may publish, what it may subscribe to.
 *
 * Identity model
 *  - per-host agent credential: username `<site>.<host>`, may publish only
 *    `canh/v1/<site>/<host>/<kind>`;
 *  - per-site agent credential: username `<site>`, may publish for any host of that site;
 *  - collector credential: username `canh-collector` (or chosen), may subscribe to
 *    `canh/v1/…` and publish nothing.
 * Site/host ids match ID_PATTERN, which has no '.', so `<site>.<host>` is unambiguous.
 */
import { ACK_KIND } from '../../contract/ack.js';
import { CONFIG_KIND } from '../../contract/agent-config.js';
import { UPDATE_KIND } from '../../contract/agent-update.js';
import { agentClientId, isValidId, parseTopic, TOPIC_PREFIX } from '../../contract/topics.js';

export type Role = 'agent' | 'collector';

export interface Identity {
  username: string;
  /** The agent's site; `'*'` for a collector (never equal to a valid site id). */
  site: string;
  /** The agent's host; `null` for a per-site credential and for a collector. */
  host: string | null;
  role: Role;
}

/**
 * May `identity` connect with MQTT client id `clientId`? A client id belongs to one
 * identity, so no credential can take over another's session (the broker would drop
 * the PC it names, and the collector would record a false outage):
 *  - a per-host agent `<site>.<host>`: exactly `<site>.<host>` (its username);
 *  - a per-site agent `<site>`: `<site>.<host>` for a valid host id (its site's PCs);
 *  - a collector: exactly its username.
 * Mosquitto enforces the same for per-host and collector credentials with
 * `use_username_as_clientid` (mosquitto-config.ts).
 */
export function mayUseClientId(identity: Identity, clientId: string): boolean {
  if (identity.role === 'collector') return clientId === identity.username;
  if (identity.role !== 'agent') return false;
  if (identity.host !== null) return clientId === agentClientId(identity.site, identity.host);
  const dot = clientId.indexOf('.');
  return dot > 0 && clientId.slice(0, dot) === identity.site && isValidId(clientId.slice(dot + 1));
}

/**
 * May `identity` publish on `topic`? Only agents, only exact Canh topics
 * (`canh/v1/<site>/<host>/<kind>`, kind in samples|events|inventory|status, no
 * wildcards), only for their own site, and for a per-host credential only their host.
 */
export function mayPublish(identity: Identity, topic: string): boolean {
  if (identity.role !== 'agent') return false;
  const parsed = parseTopic(topic);
  if (!parsed) return false;
  if (!isValidId(identity.site) || parsed.site !== identity.site) return false;
  if (identity.host !== null && parsed.host !== identity.host) return false;
  return true;
}

/**
 * May `identity` subscribe to `filter`? Only the collector, and only to valid filters
 * inside `canh/v1/` (e.g. `canh/v1/#`, `canh/v1/+/+/+`, `canh/v1/+/+/samples`), also
 * as a shared subscription `$share/<group>/canh/v1/...`. An agent subscribes only to its
 * own end-to-end ack topic `canh/v1/<site>/<host>/ack` and its own remote-configuration
 * topic `canh/v1/<site>/<host>/config` and update offers `…/update` (exact, no wildcards; a per-site credential to
 * those of any host of its site), so no one reads another's acks or settings. No client
 * publishes on `…/config` ({@link mayPublish} knows only the data kinds): the collector
 * publishes there from inside the embedded broker.
 */
export function maySubscribe(identity: Identity, filter: string): boolean {
  if (identity.role === 'agent') {
    const parts = filter.split('/');
    if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX || (parts[4] !== ACK_KIND && parts[4] !== CONFIG_KIND && parts[4] !== UPDATE_KIND)) return false;
    const [, , site, host] = parts as [string, string, string, string, string];
    if (!isValidId(site) || !isValidId(host) || site !== identity.site) return false;
    return identity.host === null || host === identity.host;
  }
  if (identity.role !== 'collector') return false;
  let f = filter;
  if (f.startsWith('$share/')) {
    const rest = f.slice('$share/'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return false;
    const group = rest.slice(0, slash);
    if (/[+#]/.test(group)) return false;
    f = rest.slice(slash + 1);
  }
  if (!f.startsWith(`${TOPIC_PREFIX}/`)) return false;
  return isValidFilter(f);
}

/** MQTT topic filter syntax: '#' only as the whole last level, '+' only as a whole level. */
function isValidFilter(filter: string): boolean {
  if (!filter.length || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] as string;
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return false;
    if (l.includes('+') && l !== '+') return false;
  }
  return true;
}
