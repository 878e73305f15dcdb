import { CONTRACT_VERSION, decodeControlObject } from './limits.js';
import { TOPIC_PREFIX } from './topics.js';

/**
 * Remote agent configuration (issue 16): the collector → agent settings of one PC, over
 *
 *   canh/v1/<site>/<host>/config      collector → agent, QoS 1, retained
 *
 * Only the collector may publish there (the embedded broker and the exported Mosquitto ACL
 * deny every agent); each agent may read its own host's topic only. The payload carries the
 * PC's effective remote part (site settings with the host's on top, contract/remote-config.ts
 * `RemoteConfigSchema`), a version that grows with every change for that PC and a hash of
 * the part. An agent applies a (version, hash) once and remembers it in its state folder,
 * so the retained message delivered again at each reconnect or collector restart changes
 * nothing. It reports the outcome as a `config` event (details `state` applied|refused,
 * `version`, `hash`, `reason`).
 */
export const CONFIG_KIND = 'config' as const;

export function configTopic(site: string, host: string): string {
  return `${TOPIC_PREFIX}/${site}/${host}/${CONFIG_KIND}`;
}

export interface AgentConfigMessage {
  v: typeof CONTRACT_VERSION;
  /** Grows with every change of this PC's effective remote part (1, 2, …). */
  version: number;
  /** sha256 (hex, 16 chars) of the canonical JSON of `config`. */
  hash: string;
  /** The remote part: validated by the agent against its own schema before use. */
  config: Record<string, unknown>;
}

/** The outcome an agent reports (event `config`, details.state). */
export const CONFIG_REPORT_STATES = ['applied', 'refused'] as const;
export type ConfigReportState = (typeof CONFIG_REPORT_STATES)[number];

/** Decode a config message; a string says why it is not one. */
export function decodeConfigMessage(payload: Uint8Array | string): AgentConfigMessage | string {
  const o = decodeControlObject(payload, 256 * 1024);
  if (typeof o === 'string') return o;
  if (typeof o.version !== 'number' || !Number.isSafeInteger(o.version) || o.version < 0) return 'version must be a non-negative integer';
  if (typeof o.hash !== 'string' || !/^[0-9a-f]{1,64}$/.test(o.hash)) return 'hash must be hex';
  if (typeof o.config !== 'object' || o.config === null || Array.isArray(o.config)) return 'config must be an object';
  return { v: CONTRACT_VERSION, version: o.version, hash: o.hash, config: o.config as Record<string, unknown> };
}
