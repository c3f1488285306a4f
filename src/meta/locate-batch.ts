import type { LocatedFile } from './rows.js';

interface Waiter {
  resolve(located: LocatedFile | undefined): void;
  reject(error: unknown): void;
}

export interface LocateStatements {
  /** One key: the ordinary lookup. */
  one(dmid: number, key: string): Promise<LocatedFile | undefined>;
  /** Several keys of one domain in one statement; a key with no file is absent. */
  many(dmid: number, keys: readonly string[]): Promise<Map<string, LocatedFile>>;
}

/**
 * Answers the `get_paths` lookups that arrive together with one statement per domain. A
 * tracker reads every request that came in during one turn of the event loop before it
 * runs the batch (`setImmediate`), so a lone request waits for nothing, and concurrent
 * ones share a round trip to the database server instead of taking one each. Each
 * request gets the answer for its own key only; the caller still checks the row it gets
 * names that key (architecture.md §4.1).
 */
export class LocateBatch {
  readonly #statements: LocateStatements;
  #pending = new Map<number, Map<string, Waiter[]>>();
  #scheduled = false;

  constructor(statements: LocateStatements) {
    this.#statements = statements;
  }

  locate(dmid: number, key: string): Promise<LocatedFile | undefined> {
    return new Promise((resolve, reject) => {
      let keys = this.#pending.get(dmid);
      if (!keys) {
        keys = new Map();
        this.#pending.set(dmid, keys);
      }
      const waiting = keys.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else keys.set(key, [{ resolve, reject }]);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#run());
      }
    });
  }

  #run(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const [dmid, keys] of pending) {
      const wanted = [...keys.keys()];
      const answered =
        wanted.length === 1
          ? this.#statements
              .one(dmid, wanted[0]!)
              .then((found) => new Map(found ? [[wanted[0]!, found]] : []))
          : this.#statements.many(dmid, wanted);
      answered.then(
        (found) => {
          for (const [key, waiters] of keys) {
            for (const waiter of waiters) waiter.resolve(found.get(key));
          }
        },
        (error: unknown) => {
          for (const waiters of keys.values()) {
            for (const waiter of waiters) waiter.reject(error);
          }
        },
      );
    }
  }
}
