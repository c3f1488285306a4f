import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';
import { createConnection } from 'node:net';
import { fidPath } from '../protocol/fid-path.js';
import type { DeviceView } from '../tracker/device-state.js';
import { dumpBody, nodeRequest } from '../tracker/node-http.js';
import { storageUrl } from '../tracker/storage-urls.js';

export type FsckAlgorithm = 'MD5' | 'SHA-1';

/** What reading one copy's content gave: its digest, no such file, or no answer. */
export type ContentDigest =
  | { readonly kind: 'digest'; readonly hex: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unreachable' };

export interface ContentDigestRequest {
  readonly view: DeviceView;
  readonly fid: number;
  readonly algorithm: FsckAlgorithm;
  readonly sideChannelPort: number;
  readonly timeoutMs: number;
  readonly agent: Agent;
  /** Signs the GET when the cluster has a secret (docs/security.md). */
  readonly sign?: (url: string) => string;
}

/**
 * Digests a copy by reading its bytes (behaviour.md §9.4 step 2): first the node's side
 * channel with reason `fsck` (the node reads the file, one fsck at a time per device), else
 * a streamed GET hashed here. Never the digest a node keeps beside the file: a disk that
 * rots under it would go unnoticed. A side channel that does not answer, or answers for a
 * file it cannot find, is not trusted alone: several nodes on one machine listen on
 * different side-channel ports than the one the tracker is configured with.
 */
export async function contentDigest(req: ContentDigestRequest): Promise<ContentDigest> {
  const uri = fidPath(req.view.device.devid, req.fid);
  const side = await sideChannelDigest(
    req.view.host.ip,
    req.sideChannelPort,
    uri,
    req,
    req.timeoutMs,
  );
  if (side !== undefined) return { kind: 'digest', hex: side };
  return getDigest(req);
}

function sideChannelDigest(
  ip: string,
  port: number,
  uri: string,
  req: ContentDigestRequest,
  timeoutMs: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: ip, port });
    let buffered = '';
    const done = (value: string | undefined) => {
      socket.destroy();
      resolve(value);
    };
    // Reading a large file takes a while; the timeout is for silence, not for the total.
    socket.setTimeout(Math.max(timeoutMs, 30_000), () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('connect', () => socket.write(`${req.algorithm} ${uri} fsck\r\n`));
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\n');
      if (end === -1) return;
      const line = buffered.slice(0, end).replace(/\r$/, '');
      const value = line.startsWith(`${uri} ${req.algorithm}=`)
        ? line.slice(uri.length + req.algorithm.length + 2)
        : '';
      done(/^[0-9a-f]{32,128}$/.test(value) ? value : undefined);
    });
  });
}

async function getDigest(req: ContentDigestRequest): Promise<ContentDigest> {
  const unsigned = storageUrl(req.view.host, req.view.device.devid, req.fid, 'read');
  const url = req.sign ? req.sign(unsigned) : unsigned;
  try {
    const response = await nodeRequest(url, {
      agent: req.agent,
      headersTimeoutMs: req.timeoutMs,
      bodyIdleMs: Math.max(req.timeoutMs, 45_000),
    });
    if (response.statusCode === 404) {
      await dumpBody(response.body);
      return { kind: 'missing' };
    }
    if (response.statusCode < 200 || response.statusCode > 299) {
      await dumpBody(response.body);
      return { kind: 'unreachable' };
    }
    const hash = createHash(req.algorithm === 'MD5' ? 'md5' : 'sha1');
    for await (const chunk of response.body) hash.update(chunk as Buffer);
    return { kind: 'digest', hex: hash.digest('hex') };
  } catch {
    return { kind: 'unreachable' };
  }
}
