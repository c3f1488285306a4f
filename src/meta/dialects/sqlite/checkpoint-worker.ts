/**
 * Worker-thread side of wal-checkpointer.ts: copies the SQLite write-ahead log back into
 * the database file on its own connection, so the tracker's event loop never waits for
 * the copy and its fsyncs. PASSIVE checkpoints never block the writer; what they cannot
 * copy yet (a reader still needs it) is copied by a later round.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new SQLite(path, { fileMustExist: true });
const port = parentPort!;

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Busy or locked: the next round tries again. Anything else ends the worker, and the
    // main connection checkpoints for itself again.
    const code = (error as { code?: string }).code ?? '';
    if (!code.startsWith('SQLITE_BUSY') && !code.startsWith('SQLITE_LOCKED')) throw error;
  }
}, intervalMs);

port.on('message', (message: 'close') => {
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  port.close();
});
