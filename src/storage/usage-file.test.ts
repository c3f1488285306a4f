import { describe, expect, it } from 'vitest';
import { parseMountInfo, splitDeviceNumber } from './block-devices.js';
import { parseDigestAttribute } from './digest-store.js';
import { parseDiskStats } from './disk-utilization.js';
import { parseListenAddress } from './storage-options.js';
import { formatUsage } from './usage-file.js';

describe('formatUsage (spec/storage-node.md §4)', () => {
  it('writes one key per line in alphabetical order with LF endings', () => {
    const text = formatUsage({
      available: 83527768,
      device: '/dev/vda',
      disk: '/var/mogdata/dev1',
      time: 1795734946,
      total: 106390912,
      use: '22%',
      used: 22863144,
    });
    expect(text).toBe(
      'available: 83527768\ndevice: /dev/vda\ndisk: /var/mogdata/dev1\ntime: 1795734946\n' +
        'total: 106390912\nuse: 22%\nused: 22863144\n',
    );
  });
});

describe('system file parsers', () => {
  it('splits Linux device numbers', () => {
    expect(splitDeviceNumber(0xfe00n)).toEqual({ major: 254, minor: 0 });
    expect(splitDeviceNumber((8n << 8n) | 17n)).toEqual({ major: 8, minor: 17 });
  });

  it('reads mountinfo lines, unescaping spaces', () => {
    const line = '29 1 254:0 / /var/my\\040data rw,relatime shared:1 - ext4 /dev/vda rw';
    expect(parseMountInfo(line)).toEqual([
      { majorMinor: '254:0', mountPoint: '/var/my data', source: '/dev/vda' },
    ]);
  });

  it('reads io_ticks from /proc/diskstats', () => {
    const text = ' 254       0 vda 100 0 200 30 40 0 80 50 0 1234 80 0 0 0 0\n';
    expect(parseDiskStats(text).get('vda')).toBe(1234);
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress('127.0.0.1:7500')).toEqual({ host: '127.0.0.1', port: 7500 });
    expect(parseListenAddress(':7501')).toEqual({ host: '0.0.0.0', port: 7501 });
    expect(parseListenAddress('7501')).toEqual({ host: '0.0.0.0', port: 7501 });
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListenAddress('host:99999')).toBeNull();
    expect(parseListenAddress('nowhere')).toBeNull();
  });

  it('accepts only well-formed digest attributes', () => {
    const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
    const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
    expect(parseDigestAttribute(`v1 ${md5} ${sha1} 0 17 42`)).toEqual({
      digest: { md5, sha1 },
      version: { size: 0n, mtimeNs: 17n, ino: 42n },
    });
    expect(parseDigestAttribute(`v1 ${md5} - 0 17 42`)).toEqual({
      digest: { md5, sha1: undefined },
      version: { size: 0n, mtimeNs: 17n, ino: 42n },
    });
    expect(parseDigestAttribute(`v2 ${md5} ${sha1} 0 17 42`)).toBeNull();
    expect(parseDigestAttribute('garbage')).toBeNull();
  });
});
