/**
 * Topic layout, one message kind per topic, under one versioned prefix:
 *
 *   canh/v1/<site>/<host>/samples     metrics samples            QoS 1
 *   canh/v1/<site>/<host>/events      events (outage, overflow…) QoS 1
 *   canh/v1/<site>/<host>/inventory   hardware/OS inventory      QoS 1, retained
 *   canh/v1/<site>/<host>/status      birth "online" / LWT "offline", QoS 1, retained
 *   canh/v1/<site>/<host>/ack         collector → agent: stored (end-to-end ack, contract/ack.ts)
 *
 * `samples` and `events` carry one record, or a batch of records of that kind once the
 * collector announced it takes them (contract/decode.ts `decodeMessages`, contract/ack.ts).
 *
 * Site and host ids are lowercase slugs, so they can never contain MQTT wildcards or
 * separators; the display name of a PC travels in the payload.
 */
export const TOPIC_PREFIX = 'canh/v1';
export const MESSAGE_KINDS = ['samples', 'events', 'inventory', 'status'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Turn a free-form name (a hostname like `PC-KeToan_01.local`) into a valid id. */
export function slugifyId(name: string): string {
  const slug = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    // đ and Đ, escaped: the agent bundle stays ASCII (scripts/bundle-agent.mjs).
    .replace(/\u0111/g, 'd')
    .replace(/\u0110/g, 'd')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 63);
  return slug.length ? slug : 'host';
}

export function topicFor(site: string, host: string, kind: MessageKind): string {
  return `${TOPIC_PREFIX}/${site}/${host}/${kind}`;
}

/**
 * An agent's MQTT client id: `<site>.<host>`, the username of its per-host credential.
 * The brokers bind client ids to credentials (collector/broker/acl.ts
 * `mayUseClientId`; Mosquitto `use_username_as_clientid`), so no credential can take
 * over another PC's session.
 */
export function agentClientId(site: string, host: string): string {
  return `${site}.${host}`;
}

/** Subscription filter for every agent → collector message (not the collector's own acks, contract/ack.ts). */
export const ALL_TOPICS = `${TOPIC_PREFIX}/+/+/+`;

/** One filter per message kind agents publish: the collector's subscriptions (never `ack`). */
export const DATA_TOPIC_FILTERS: readonly string[] = MESSAGE_KINDS.map((k) => `${TOPIC_PREFIX}/+/+/${k}`);

export interface ParsedTopic {
  site: string;
  host: string;
  kind: MessageKind;
}

/** Parse a topic; `undefined` when it is not a Canh v1 topic with valid ids. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'canh' || parts[1] !== 'v1') return undefined;
  const [, , site, host, kind] = parts as [string, string, string, string, string];
  if (!isValidId(site) || !isValidId(host)) return undefined;
  if (!(MESSAGE_KINDS as readonly string[]).includes(kind)) return undefined;
  return { site, host, kind: kind as MessageKind };
}
