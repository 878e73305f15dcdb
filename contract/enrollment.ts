/**
 * Site enrolment over HTTP (issue 15): `POST /api/enroll`, unauthenticated except by the
 * enrolment token. Both sides import these types; the collector validates the request
 * with zod (collector/enrollment/enrollment-routes.ts), the agent reads the answer
 * (agent/enrollment/enroll-client.ts).
 *
 *   agent → collector   {@link EnrollRequest}
 *   200                 {@link EnrollGranted}: the per-host MQTT credential, shown once
 *   202                 {@link EnrollPending}: waiting for an admin (approval mode, or a clone)
 *   400/401/403/429     {@link EnrollRefusal}: `message` in Vietnamese, `messageEn` in English
 */

/** Enrolment tokens look like `canh_enr_<32 base64url chars>` (192 random bits). */
export const ENROLL_TOKEN_PATTERN = /^canh_enr_[A-Za-z0-9_-]{32}$/;
export const ENROLL_PATH = '/api/enroll';

/** Bounds of the identity an agent sends (a request is small; the collector refuses more). */
export const IDENTITY_LIMITS = { idChars: 128, serials: 8, macs: 16 } as const;

/**
 * What identifies the PC. `machineId` is the OS installation's id (Linux `/etc/machine-id`,
 * Windows `MachineGuid`): stable across reboots and agent reinstalls, but copied by a disk
 * image. The hardware fields tell two PCs from one image apart: DMI/SMBIOS product UUID,
 * BIOS and board serials, disk serials, the MAC addresses of physical interfaces. Any of
 * them may be absent (unreadable without privileges, or a virtual machine).
 */
export interface MachineIdentity {
  machineId: string;
  /** Where machineId came from: `linux-machine-id`, `windows-machine-guid`, `override` (tests). */
  source: string;
  productUuid?: string | undefined;
  biosSerial?: string | undefined;
  boardSerial?: string | undefined;
  diskSerials: string[];
  macs: string[];
}

export interface EnrollRequest {
  token: string;
  site: string;
  /** The OS hostname; the host id is made from it (unique within the site). */
  hostname: string;
  identity: MachineIdentity;
  agentVersion?: string | undefined;
  platform?: string | undefined;
}

export interface EnrollGranted {
  status: 'enrolled';
  site: string;
  host: string;
  username: string;
  /** Shown once: a retried enrolment of the same PC gets a fresh one for the same credential. */
  password: string;
  /** The MQTT address the agent connects to. */
  mqttUrl: string;
  message: string;
}

export interface EnrollPending {
  status: 'pending';
  /** `approval`: the token needs an admin's approval; `clone`: same machine id as another PC. */
  reason: 'approval' | 'clone';
  message: string;
  messageEn: string;
  retryAfterSeconds: number;
}

export type EnrollRefusalCode = 'bad_request' | 'token_invalid' | 'token_expired' | 'token_revoked' | 'token_used_up' | 'wrong_site' | 'rejected' | 'rate_limited' | 'unavailable';

export interface EnrollRefusal {
  error: EnrollRefusalCode;
  message: string;
  messageEn: string;
}
