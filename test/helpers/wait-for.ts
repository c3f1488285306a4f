import { setTimeout as delay } from 'node:timers/promises';

/**
 * Polls `check` every `everyMs` until it returns a value, for state that gives no event
 * (a file on disk, a row in the database); fails at the deadline, naming `what`.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await delay(everyMs);
  }
}

/** `waitFor` of a condition: resolves once `condition` holds. */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  everyMs = 20,
): Promise<void> {
  await waitFor(what, async () => ((await condition()) ? true : undefined), timeoutMs, everyMs);
}
