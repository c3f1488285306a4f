import type { Selectable } from 'kysely';
import { durabilityOf } from './class-options.js';
import type { ClassRow, DeviceRow, HostFields, HostRow } from './rows.js';
import type { Database } from './tables.js';

export function hostColumns(fields: HostFields): Partial<Database['host']> {
  const columns: Partial<Database['host']> = {};
  if (fields.status !== undefined) columns.status = fields.status;
  if (fields.ip !== undefined) columns.hostip = fields.ip;
  if (fields.httpPort !== undefined) columns.http_port = fields.httpPort;
  if (fields.httpGetPort !== undefined) columns.http_get_port = fields.httpGetPort;
  if (fields.altIp !== undefined) columns.altip = fields.altIp;
  if (fields.altMask !== undefined) columns.altmask = fields.altMask;
  return columns;
}

/** A `class` row with its `mogile_class_option.durability`, null when it has no option row. */
export function toClassRow(
  row: Selectable<Database['class']> & { durability?: string | null },
): ClassRow {
  return {
    dmid: row.dmid,
    classid: row.classid,
    name: row.classname,
    mindevcount: row.mindevcount,
    replpolicy: row.replpolicy,
    hashtype: row.hashtype,
    durability: durabilityOf(row.durability),
  };
}

export function toHostRow(row: Selectable<Database['host']>): HostRow {
  return {
    hostid: row.hostid,
    status: row.status,
    name: row.hostname,
    ip: row.hostip,
    httpPort: row.http_port,
    httpGetPort: row.http_get_port,
    altIp: row.altip,
    altMask: row.altmask,
  };
}

export function toDeviceRow(row: Selectable<Database['device']>): DeviceRow {
  return {
    devid: row.devid,
    hostid: row.hostid,
    status: row.status,
    weight: row.weight,
    mbTotal: row.mb_total,
    mbUsed: row.mb_used,
    mbAsof: row.mb_asof,
  };
}
