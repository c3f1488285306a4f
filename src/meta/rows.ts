/** Rows as the rest of mogile sees them: camelCase, with units in the names. */

export interface DomainRow {
  readonly dmid: number;
  readonly name: string;
}

export interface ClassRow {
  readonly dmid: number;
  readonly classid: number;
  readonly name: string;
  readonly mindevcount: number;
  /** Stored policy string; null or empty means `MultipleHosts()`. */
  readonly replpolicy: string | null;
  /** 1 = MD5, 2 = SHA-1, null = none (spec/metadata-schema.md §1.2). */
  readonly hashtype: number | null;
}

export const HOST_STATES = ['alive', 'dead', 'down', 'readonly'] as const;
export type HostState = (typeof HOST_STATES)[number];

export const DEVICE_STATES = ['alive', 'dead', 'down', 'readonly', 'drain'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export interface HostRow {
  readonly hostid: number;
  readonly status: string;
  readonly name: string;
  readonly ip: string;
  readonly httpPort: number | null;
  readonly httpGetPort: number | null;
  readonly altIp: string | null;
  readonly altMask: string | null;
}

export interface DeviceRow {
  readonly devid: number;
  readonly hostid: number;
  readonly status: string;
  readonly weight: number | null;
  readonly mbTotal: number | null;
  readonly mbUsed: number | null;
  readonly mbAsof: number | null;
}

export interface ClassFields {
  readonly mindevcount?: number;
  readonly replpolicy?: string;
  readonly hashtype?: number | null;
}

export interface HostFields {
  readonly status?: string;
  readonly ip?: string;
  readonly httpPort?: number | null;
  readonly httpGetPort?: number | null;
  readonly altIp?: string | null;
  readonly altMask?: string | null;
}

export interface NewDevice {
  readonly devid: number;
  readonly hostid: number;
  readonly status: DeviceState;
  readonly weight: number;
}

export interface DeviceFields {
  readonly status?: DeviceState;
  readonly weight?: number;
}

export interface DeviceUsage {
  readonly mbTotal: number;
  readonly mbUsed: number;
  readonly asofSeconds: number;
}
