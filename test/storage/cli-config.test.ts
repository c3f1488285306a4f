import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { http10, makeDocroot, rawRequest, removeDocroot, startNode } from './node-harness.js';

const MAIN = resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

/** Runs `mogile storage` expecting it to refuse to start; returns exit code and stderr. */
function failedStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [MAIN, 'storage', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // A node that starts after all must not outlive the test.
    const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(guard);
      resolveRun({ code, stderr });
    });
  });
}

describe('mogile storage configuration', () => {
  it('reads mogstored.conf keys, and the command line wins over the file', async () => {
    const fileRoot = makeDocroot([1]);
    const cliRoot = makeDocroot([4]);
    const conf = join(fileRoot, 'mogstored.conf');
    const pidfile = join(fileRoot, 'node.pid');
    writeFileSync(
      conf,
      [
        '# mogstored settings',
        'httplisten = 127.0.0.1:0',
        'mgmtlisten=127.0.0.1:0   # side channel',
        `docroot = ${fileRoot}`,
        'maxconns = 50',
        'iostat = 0',
        `pidfile = ${pidfile}`,
        '',
      ].join('\n'),
    );
    // startNode adds --docroot <cliRoot>, which must override the file's docroot.
    const node = await startNode(cliRoot, ['-c', conf]);
    try {
      expect(existsSync(join(cliRoot, 'dev4', 'usage'))).toBe(true);
      expect(existsSync(join(fileRoot, 'dev1', 'usage'))).toBe(false);
      expect((await rawRequest(node.http, http10('GET', '/dev4/usage'))).status).toBe(200);
      expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(node.child.pid));
    } finally {
      await node.stop();
      expect(existsSync(pidfile)).toBe(false);
      removeDocroot(fileRoot);
      removeDocroot(cliRoot);
    }
  });

  it('refuses invalid values, naming the key', async () => {
    const docroot = makeDocroot([1]);
    try {
      const cases: Array<[string, RegExp]> = [
        ['maxconns = lots', /maxconns/],
        ['maxconns = 0', /maxconns/],
        ['httplisten = nowhere', /httplisten/],
        ['mgmtlisten = 1.2.3.4:99999', /mgmtlisten/],
        ['iostat = maybe', /iostat/],
        ['server = lighttpd', /server/],
        ['daemonize = 1', /daemonize/],
        ['frobnicate = 1', /frobnicate/],
      ];
      for (const [line, message] of cases) {
        const conf = join(docroot, 'bad.conf');
        writeFileSync(conf, `docroot = ${docroot}\n${line}\n`);
        const run = await failedStart([
          '-c',
          conf,
          '--listen',
          '127.0.0.1:0',
          '--mgmt-listen',
          '127.0.0.1:0',
        ]);
        expect(run.code, line).toBe(2);
        expect(run.stderr, line).toMatch(message);
      }
      const badCli = await failedStart(['--skipconfig', '--docroot', docroot, '--listen', 'x:y']);
      expect(badCli.code).toBe(2);
      expect(badCli.stderr).toMatch(/--httplisten/);
      const missingRoot = await failedStart([
        '--skipconfig',
        '--docroot',
        join(docroot, 'missing'),
        '--listen',
        '127.0.0.1:0',
        '--mgmt-listen',
        '127.0.0.1:0',
      ]);
      expect(missingRoot.code).toBe(1);
      expect(missingRoot.stderr).toMatch(/docroot/);
    } finally {
      removeDocroot(docroot);
    }
  });

  it('serves devices that appear after start-up', async () => {
    const docroot = makeDocroot([1]);
    const node = await startNode(docroot);
    try {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(docroot, 'dev9'));
      const stored = await rawRequest(
        node.http,
        http10('PUT', '/dev9/0/000/000/0000000009.fid', 'late'),
      );
      expect(stored.status).toBe(200);
      const read = await rawRequest(node.http, http10('GET', '/dev9/0/000/000/0000000009.fid'));
      expect(read.body.toString()).toBe('late');
    } finally {
      await node.stop();
      removeDocroot(docroot);
    }
  });
});
