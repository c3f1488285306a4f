import { type ServerResponse, STATUS_CODES } from 'node:http';

export const SERVER_HEADER = 'mogile';

/**
 * Sends a small HTML page shaped like Perlbal's (`<h1>404 - Not Found</h1>\n<detail>`,
 * spec/storage-node.md §3.2), always with Content-Length so keep-alive works. When the
 * request body has not been read, the connection is closed instead of draining it.
 */
export function sendPage(
  res: ServerResponse,
  status: number,
  detail = '',
  extraHeaders: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const reason = STATUS_CODES[status] ?? '';
  const body = Buffer.from(`<h1>${status} - ${reason}</h1>\n${detail}`);
  res.writeHead(status, {
    'Content-Type': 'text/html',
    'Content-Length': body.length,
    Server: SERVER_HEADER,
    ...extraHeaders,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** An error page for a request whose body was not consumed: do not keep the connection. */
export function refuseUpload(res: ServerResponse, status: number, detail = ''): void {
  res.shouldKeepAlive = false;
  sendPage(res, status, detail, { Connection: 'close' });
}

/** `Directory listing disabled`, as Perlbal answers a GET of a folder (§3.2). */
export function sendDirectoryPage(res: ServerResponse): void {
  sendPage(res, 200, 'Directory listing disabled');
}

/** The status for a filesystem error code while writing. */
export function statusForWriteError(code: string | undefined): number {
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return 507;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 403;
  return 500;
}
