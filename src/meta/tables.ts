import type { Generated } from 'kysely';

/**
 * MogileFS schema version 17 as Kysely sees it (spec/metadata-schema.md §1). Table and
 * column names are the compatibility contract: a Perl tracker can open the same database.
 * Tables prefixed `mogile_` are our additions; the Perl tracker ignores them.
 */
export interface Database {
  domain: { dmid: number; namespace: string };
  class: {
    dmid: number;
    classid: number;
    classname: string;
    mindevcount: number;
    replpolicy: string | null;
    hashtype: number | null;
  };
  file: {
    fid: number;
    dmid: number;
    dkey: string;
    length: number;
    classid: number;
    devcount: number;
  };
  tempfile: {
    fid: Generated<number>;
    createtime: number;
    classid: number;
    dmid: number;
    dkey: string | null;
    devids: string | null;
  };
  file_on: { fid: number; devid: number };
  file_on_corrupt: { fid: number; devid: number };
  unreachable_fids: { fid: number; lastupdate: number };
  host: {
    hostid: number;
    status: string;
    http_port: number | null;
    http_get_port: number | null;
    hostname: string;
    hostip: string;
    altip: string | null;
    altmask: string | null;
  };
  device: {
    devid: number;
    hostid: number;
    status: string;
    weight: number | null;
    mb_total: number | null;
    mb_used: number | null;
    mb_asof: number | null;
  };
  server_settings: { field: string; value: string | null };
  file_to_replicate: {
    fid: number;
    nexttry: number;
    fromdevid: number | null;
    failcount: number;
    flags: number;
  };
  file_to_delete2: { fid: number; nexttry: number; failcount: number };
  file_to_delete: { fid: number };
  file_to_delete_later: { fid: number; delafter: number };
  file_to_queue: {
    fid: number;
    devid: number | null;
    type: number;
    nexttry: number;
    failcount: number;
    flags: number;
    arg: string | null;
  };
  fsck_log: {
    logid: Generated<number>;
    utime: number;
    fid: number | null;
    evcode: string | null;
    devid: number | null;
  };
  checksum: { fid: number; hashtype: number; checksum: Uint8Array };
  lock: { lockid: number; hostname: string; pid: number; acquiredat: number };
  /** Our counters; `fid_high_water` is the fid allocator (architecture.md §4.3). */
  mogile_counter: { name: string; value: number };
  /** Singleton duties: who holds each and until when (Unix seconds; lease-queries.ts). */
  mogile_lease: { name: string; holder: string; expires_at: number };
  /** Our per-class settings the Perl `class` table has no column for (class-options.ts). */
  mogile_class_option: { dmid: number; classid: number; durability: string };
}

export const SCHEMA_VERSION = 17;

/** Tables every schema-17 database has (metadata-schema.md §1), ours included. */
export const SCHEMA_TABLES: readonly string[] = [
  'domain',
  'class',
  'file',
  'tempfile',
  'file_on',
  'file_on_corrupt',
  'unreachable_fids',
  'host',
  'device',
  'server_settings',
  'file_to_replicate',
  'file_to_delete',
  'file_to_delete_later',
  'file_to_delete2',
  'file_to_queue',
  'fsck_log',
  'checksum',
  'mogile_counter',
  'mogile_lease',
  'mogile_class_option',
];
