import type { EventMessage } from '../contract/schemas.js';

/** An event as a part of the agent produces it; the agent adds the envelope (agent.ts). */
export type AgentEvent = Pick<EventMessage, 'type' | 'severity' | 'message'> & Partial<Pick<EventMessage, 'start' | 'end' | 'details' | 'processes' | 'disks'>>;

/** Hands an event to the agent's outbox. */
export type EmitEvent = (ev: AgentEvent) => void;
