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
  /** `sync`: `create_close` waits for the class's copies (our addition, `mogile_class_option`). */
  readonly durability: ClassDurability;
}

export const CLASS_DURABILITIES = ['async', 'sync'] as const;
export type ClassDurability = (typeof CLASS_DURABILITIES)[number];

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
  readonly durability?: ClassDurability;
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

export interface FileRow {
  readonly fid: number;
  readonly dmid: number;
  readonly key: string;
  readonly length: number;
  readonly classid: number;
  readonly devcount: number;
}

export interface TempfileRow {
  readonly fid: number;
  readonly dmid: number;
  readonly classid: number;
  readonly key: string | null;
  readonly devids: string | null;
  readonly createdSeconds: number;
}

export interface StoredChecksum {
  /** 1 = MD5, 2 = SHA-1. */
  readonly hashtype: number;
  readonly digest: Uint8Array;
}

/** What `create_close` binds once the upload is verified (spec metadata-schema.md §2.1). */
export interface CommittedFile {
  readonly fid: number;
  readonly dmid: number;
  readonly key: string;
  readonly classid: number;
  readonly lengthBytes: number;
  readonly devid: number;
  readonly checksum?: StoredChecksum;
  readonly nowSeconds: number;
}

/** What became of a copy's record (`MetaStore.addFileCopy`). */
export type CopyRecord =
  /** The copy is recorded and counted in the file's devcount. */
  | { readonly outcome: 'recorded' }
  /** The fid was deleted meanwhile: the copy is recorded and queued for deletion with it. */
  | { readonly outcome: 'file_deleted' }
  /** The file row no longer matches the one the copy was made for: nothing was written. */
  | { readonly outcome: 'file_changed'; readonly now: FileRow };

/** What create_close must know of a fid before binding a key to it. */
export interface FidBinding {
  /** The key the fid is bound to now. */
  readonly owner?: { readonly dmid: number; readonly key: string };
  readonly queuedForDeletion: boolean;
}

/** The queue rows `file_debug` reports for one fid. */
export interface FidQueues {
  readonly tempfile?: TempfileRow;
  readonly replicate?: {
    readonly nexttry: number;
    readonly fromdevid: number | null;
    readonly failcount: number;
    readonly flags: number;
  };
  readonly delete?: { readonly nexttry: number; readonly failcount: number };
  readonly queued: readonly {
    readonly type: number;
    readonly devid: number | null;
    readonly nexttry: number;
    readonly failcount: number;
    readonly flags: number;
    readonly arg: string | null;
  }[];
}

/** A file with what reading it needs: its checksum and the devices holding copies. */
export interface LocatedFile {
  readonly file: FileRow;
  readonly checksum?: StoredChecksum;
  readonly devids: readonly number[];
}
