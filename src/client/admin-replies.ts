import { intField, optionalNumber, optionalText } from './client-options.js';

/** Reply shapes of the administrative commands (spec/tracker-protocol.md §6). */

export interface ClassInfo {
  readonly name: string;
  readonly mindevcount: number;
  readonly replpolicy: string;
  /** `MD5`, `SHA-1` or `NONE`. */
  readonly hashtype: string;
  /** mogile's `sync` or `async`; `async` from trackers that do not send it. */
  readonly durability: string;
}

export interface DomainInfo {
  readonly name: string;
  readonly classes: readonly ClassInfo[];
}

export interface HostInfo {
  readonly hostid: number;
  readonly hostname: string;
  readonly status: string;
  readonly hostip: string;
  readonly httpPort: number | undefined;
  readonly httpGetPort: number | undefined;
  readonly altip: string | undefined;
  readonly altmask: string | undefined;
}

export interface DeviceInfo {
  readonly devid: number;
  readonly hostid: number;
  readonly status: string;
  readonly weight: number | undefined;
  readonly mbTotal: number | undefined;
  readonly mbUsed: number | undefined;
  readonly mbFree: number | undefined;
  /** `writeable`, `readable`, `unreachable`, or undefined before the monitor saw it. */
  readonly observedState: string | undefined;
  readonly utilization: string | undefined;
  readonly rejectBadMd5: boolean | undefined;
}

export interface FidInfo {
  readonly fid: number;
  readonly domain: string;
  readonly class: string;
  readonly key: string;
  readonly lengthBytes: number;
  readonly devcount: number;
}

export interface FsckLogRow {
  readonly logid: number;
  readonly utime: number;
  readonly fid: number;
  readonly evcode: string;
  readonly devid: number | undefined;
}

export interface FsckStatus {
  readonly running: boolean;
  readonly host: string | undefined;
  readonly maxFidChecked: number;
  readonly endFid: number;
  readonly policyOnly: boolean;
  readonly startTime: number;
  readonly stopTime: number;
  readonly currentTime: number;
  readonly maxLogid: number;
  /** `num_<CODE>` counters by event code. */
  readonly eventCounts: Readonly<Record<string, number>>;
  readonly raw: Readonly<Record<string, string>>;
}

type Reply = ReadonlyMap<string, string>;

export function parseDomains(reply: Reply): DomainInfo[] {
  const domains: DomainInfo[] = [];
  const count = intField(reply, 'domains', 'get_domains');
  for (let i = 1; i <= count; i++) {
    const classes: ClassInfo[] = [];
    const classCount = optionalNumber(reply, `domain${i}classes`) ?? 0;
    for (let j = 1; j <= classCount; j++) {
      const prefix = `domain${i}class${j}`;
      classes.push({
        name: reply.get(`${prefix}name`) ?? '',
        mindevcount: optionalNumber(reply, `${prefix}mindevcount`) ?? 0,
        replpolicy: reply.get(`${prefix}replpolicy`) ?? '',
        hashtype: reply.get(`${prefix}hashtype`) ?? 'NONE',
        durability: reply.get(`${prefix}durability`) || 'async',
      });
    }
    domains.push({ name: reply.get(`domain${i}`) ?? '', classes });
  }
  return domains;
}

export function parseHosts(reply: Reply): HostInfo[] {
  return rows(reply, 'hosts', 'get_hosts', (i) => {
    const p = `host${i}_`;
    return {
      hostid: intField(reply, `${p}hostid`, 'get_hosts'),
      hostname: reply.get(`${p}hostname`) ?? '',
      status: reply.get(`${p}status`) ?? '',
      hostip: reply.get(`${p}hostip`) ?? '',
      httpPort: optionalNumber(reply, `${p}http_port`),
      httpGetPort: optionalNumber(reply, `${p}http_get_port`),
      altip: optionalText(reply, `${p}altip`),
      altmask: optionalText(reply, `${p}altmask`),
    };
  });
}

export function parseDevices(reply: Reply): DeviceInfo[] {
  return rows(reply, 'devices', 'get_devices', (i) => {
    const p = `dev${i}_`;
    const reject = optionalText(reply, `${p}reject_bad_md5`);
    return {
      devid: intField(reply, `${p}devid`, 'get_devices'),
      hostid: intField(reply, `${p}hostid`, 'get_devices'),
      status: reply.get(`${p}status`) ?? '',
      weight: optionalNumber(reply, `${p}weight`),
      mbTotal: optionalNumber(reply, `${p}mb_total`),
      mbUsed: optionalNumber(reply, `${p}mb_used`),
      mbFree: optionalNumber(reply, `${p}mb_free`),
      observedState: optionalText(reply, `${p}observed_state`),
      utilization: optionalText(reply, `${p}utilization`),
      rejectBadMd5: reject === undefined ? undefined : reject === '1',
    };
  });
}

export function parseFids(reply: Reply): FidInfo[] {
  return rows(reply, 'fid_count', 'list_fids', (i) => {
    const p = `fid_${i}_`;
    return {
      fid: intField(reply, `${p}fid`, 'list_fids'),
      domain: reply.get(`${p}domain`) ?? '',
      class: reply.get(`${p}class`) ?? '',
      key: reply.get(`${p}key`) ?? '',
      lengthBytes: optionalNumber(reply, `${p}length`) ?? 0,
      devcount: optionalNumber(reply, `${p}devcount`) ?? 0,
    };
  });
}

export function parseSettings(reply: Reply): Record<string, string> {
  const settings: Record<string, string> = {};
  // §6.17 QUIRK: with no visible setting the reply has no key_count at all.
  const count = optionalNumber(reply, 'key_count') ?? 0;
  for (let i = 1; i <= count; i++) {
    const name = reply.get(`key_${i}`);
    if (name !== undefined) settings[name] = reply.get(`value_${i}`) ?? '';
  }
  return settings;
}

export function parseFsckLog(reply: Reply): FsckLogRow[] {
  return rows(reply, 'row_count', 'fsck_getlog', (i) => {
    const p = `row_${i}_`;
    return {
      logid: intField(reply, `${p}logid`, 'fsck_getlog'),
      utime: optionalNumber(reply, `${p}utime`) ?? 0,
      fid: optionalNumber(reply, `${p}fid`) ?? 0,
      evcode: reply.get(`${p}evcode`) ?? '',
      devid: optionalNumber(reply, `${p}devid`),
    };
  });
}

export function parseFsckStatus(reply: Reply): FsckStatus {
  const eventCounts: Record<string, number> = {};
  for (const [name, value] of reply) {
    if (name.startsWith('num_')) eventCounts[name.slice(4)] = Number(value);
  }
  const number = (name: string) => optionalNumber(reply, name) ?? 0;
  return {
    running: reply.get('running') === '1',
    host: optionalText(reply, 'host'),
    maxFidChecked: number('max_fid_checked'),
    endFid: number('end_fid'),
    policyOnly: reply.get('policy_only') === '1',
    startTime: number('start_time'),
    stopTime: number('stop_time'),
    currentTime: number('current_time'),
    maxLogid: number('max_logid'),
    eventCounts,
    raw: Object.fromEntries(reply),
  };
}

function rows<T>(reply: Reply, countName: string, command: string, row: (i: number) => T): T[] {
  const count = intField(reply, countName, command);
  return Array.from({ length: count }, (_, index) => row(index + 1));
}
