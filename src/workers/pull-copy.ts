import type { Agent } from 'node:http';
import type { StoredChecksum } from '../meta/index.js';
import { bodyBuffer, hexHeader, type NodeResponse, nodeRequest } from '../tracker/node-http.js';
import type { CopyResult } from './node-copy.js';

/** What a pull may also come to: the copy has to be relayed through the tracker instead. */
export type PullResult = CopyResult | 'unsupported' | 'unreachable';

export interface PullRequest {
  readonly lengthBytes: number;
  /** Signed for reading: the destination node fetches it. */
  readonly sourceUrl: string;
  /** Signed for writing: the node that pulls. */
  readonly destUrl: string;
  readonly stored: StoredChecksum | undefined;
  readonly algorithm: 'md5' | 'sha1';
}

export interface PullTimeouts {
  /** Time the destination has to answer, on top of the transfer itself. */
  readonly headersTimeoutMs: number;
  /** Longest silence the destination allows its source (it reports the stall). */
  readonly idleTimeoutMs: number;
}

/** The slowest transfer the deadline of a pull allows for, in bytes per second. */
const SLOWEST_BYTES_PER_SECOND = 1024 * 1024;

/**
 * Asks the destination node to fetch the copy from the source itself (docs/storage-node.md,
 * "Copies between nodes"): a POST naming the source URL, the length and the digest. The
 * node stores the copy only when both match, then answers with its own digest, which is
 * checked here again. A node that does not answer in kind (mogstored) or cannot reach
 * the source leaves the copy to the tracker's relay.
 */
export async function pullCopy(
  agent: Agent,
  pull: PullRequest,
  timeouts: PullTimeouts,
): Promise<PullResult> {
  const headers: Record<string, string> = {
    'x-mogile-copy-from': pull.sourceUrl,
    'x-mogile-copy-length': String(pull.lengthBytes),
    'content-length': '0',
  };
  const expected = pull.stored ? Buffer.from(pull.stored.digest).toString('hex') : undefined;
  if (expected !== undefined) headers[`x-mogile-copy-${pull.algorithm}`] = expected;
  const transferMs = Math.ceil((pull.lengthBytes / SLOWEST_BYTES_PER_SECOND) * 1000);
  let response: NodeResponse;
  try {
    response = await nodeRequest(pull.destUrl, {
      method: 'POST',
      headers,
      agent,
      headersTimeoutMs: timeouts.headersTimeoutMs * 2 + timeouts.idleTimeoutMs + transferMs,
      bodyIdleMs: timeouts.headersTimeoutMs,
    });
  } catch (error) {
    return failed('destination', `copy request failed: ${(error as Error).message}`);
  }
  const outcome = response.headers['x-mogile-copy'];
  const page = await bodyBuffer(response.body).catch(() => Buffer.alloc(0));
  const detail = pageDetail(page.toString('utf8'));
  const status = response.statusCode;
  switch (outcome) {
    case 'stored': {
      const digest = hexHeader(response.headers[`x-mogile-${pull.algorithm}`]);
      if (digest === undefined) return failed('destination', 'copy could not be verified');
      if (expected !== undefined && digest !== expected) {
        return failed('destination', 'checksum mismatch on the copy', true);
      }
      const hashtype = pull.algorithm === 'md5' ? 1 : 2;
      return { ok: true, digest: { hashtype, digest: new Uint8Array(Buffer.from(digest, 'hex')) } };
    }
    case 'source-unreachable':
      return 'unreachable';
    case 'source-refused': {
      const sourceStatus = Number(response.headers['x-mogile-source-status']);
      // The source answered, but not with the fid's bytes: a recorded copy is missing or
      // has the wrong size (architecture.md §4.5).
      const found = sourceStatus === 404 || (sourceStatus >= 200 && sourceStatus <= 299);
      return failed('source', detail, found);
    }
    case 'source-broke':
      return failed('source', `GET broke: ${detail}`);
    case 'source-mismatch':
      return failed('source', `checksum mismatch on GET: ${detail}`, true);
    case 'failed':
      return failed('destination', `copy answered ${status}: ${detail}`);
    default:
      // No answer in kind: mogstored, an older node, or a request it could not take.
      return 'unsupported';
  }
}

function failed(side: 'source' | 'destination', reason: string, breach = false): PullResult {
  return { ok: false, side, reason, ...(breach && { breach: true as const }) };
}

/** The detail line of a node's error page (`<h1>502 - Bad Gateway</h1>\ndetail`). */
function pageDetail(page: string): string {
  return page.replace(/^<h1>[^<]*<\/h1>\n?/, '').trim();
}
