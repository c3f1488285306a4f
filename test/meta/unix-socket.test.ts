import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { adapterFor } from '../../src/meta/open-meta-store.js';
import {
  dsnToUrl,
  MYSQL_DEFAULT_SOCKETS,
  POSTGRES_DEFAULT_SOCKET_FOLDERS,
} from '../../src/tracker/db-dsn.js';
import { backends } from '../helpers/meta-backends.js';

/*
 * A database on the tracker's own machine is often reached through its Unix socket (DBD::Pg
 * with `host=/folder`, DBD::mysql with `mysql_socket=/path`). The DSN's translation must
 * reach the server that way, not fall back to TCP or take the folder for a database name.
 */
const server = backends().filter((backend) => backend.name !== 'sqlite');

describe.each(server)('$name through its Unix socket', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * A fresh database, asked over TCP where its server's socket is, then opened again
   * through the URL that `dsnFor(socket, name)` translates to, as the same user.
   */
  async function overSocket(dsnFor: (socket: string, name: string, port: string) => string) {
    const database = await backend.freshDatabase();
    cleanups.push(database.drop);
    const tcp = await adapterFor(database.url);
    cleanups.push(() => tcp.close());
    const socket =
      backend.name === 'postgres'
        ? (
            await sql<{ dir: string }>`SELECT setting AS dir FROM pg_settings
              WHERE name = 'unix_socket_directories'`.execute(tcp.db)
          ).rows[0]!.dir.split(',')[0]!
        : (await sql<{ path: string }>`SELECT @@socket AS path`.execute(tcp.db)).rows[0]!.path;
    const tcpUrl = new URL(database.url);
    const url = dsnToUrl(dsnFor(socket.trim(), tcpUrl.pathname.slice(1), tcpUrl.port));
    if (url instanceof Error) throw url;
    const adapter = await adapterFor(url, { user: tcpUrl.username });
    cleanups.push(() => adapter.close());
    return { adapter, url, socket: socket.trim(), port: tcpUrl.port };
  }

  it('opens the database the DSN names, over the socket', async () => {
    const { adapter, url } =
      backend.name === 'postgres'
        ? await overSocket((socket, name) => `DBI:Pg:dbname=${name};host=${socket}`)
        : await overSocket((socket, name) => `DBI:mysql:database=${name};mysql_socket=${socket}`);
    await expectSocketClient(adapter, new URL(url).pathname.slice(1));
  });

  it('takes a DSN without a host to the socket where the client library looks for it', async () => {
    const { adapter, url, socket, port } =
      backend.name === 'postgres'
        ? await overSocket((_socket, name, port) => `DBI:Pg:dbname=${name};port=${port}`)
        : await overSocket((_socket, name, port) => `DBI:mysql:database=${name};port=${port}`);
    const inDefaultPlace =
      backend.name === 'postgres'
        ? POSTGRES_DEFAULT_SOCKET_FOLDERS.includes(socket) && (port === '' || port === '5432')
        : MYSQL_DEFAULT_SOCKETS.includes(socket);
    // A server whose socket is elsewhere is reached over TCP on localhost instead.
    expect(new URL(url).searchParams.has(backend.name === 'postgres' ? 'host' : 'socket')).toBe(
      inDefaultPlace,
    );
    if (inDefaultPlace) await expectSocketClient(adapter, new URL(url).pathname.slice(1));
  });

  async function expectSocketClient(
    adapter: Awaited<ReturnType<typeof adapterFor>>,
    database: string,
  ) {
    if (backend.name === 'postgres') {
      // inet_server_addr() is NULL on a Unix-socket connection.
      const { rows } = await sql<{ address: string | null; name: string }>`
        SELECT inet_server_addr() AS address, current_database() AS name`.execute(adapter.db);
      expect(rows[0]).toEqual({ address: null, name: database });
    } else {
      // The server reports a socket client as `localhost`, a TCP one as `address:port`.
      const { rows } = await sql<{ host: string; name: string }>`
        SELECT host, DATABASE() AS name FROM information_schema.processlist
        WHERE id = CONNECTION_ID()`.execute(adapter.db);
      expect(rows[0]).toEqual({ host: 'localhost', name: database });
    }
    await adapter.createSchema();
    expect(await adapter.listTables()).toContain('file');
  }
});
