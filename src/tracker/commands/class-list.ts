import type { ClassRow } from '../../meta/index.js';
import type { ClusterSnapshot } from '../cluster-view.js';

/**
 * A domain's classes with `default` (classid 0) first. Without a stored row, `default`
 * is synthesized from the `default_mindevcount` setting (spec tracker-protocol.md §6.1).
 */
export function domainClasses(
  snapshot: ClusterSnapshot,
  dmid: number,
  defaultMindevcount: number,
): ClassRow[] {
  const stored = snapshot.storedClasses(dmid);
  if (stored.some((row) => row.classid === 0)) return [...stored];
  const synthesized: ClassRow = {
    dmid,
    classid: 0,
    name: 'default',
    mindevcount: defaultMindevcount,
    replpolicy: null,
    hashtype: null,
    durability: 'async',
  };
  return [synthesized, ...stored];
}

/** Looks a class up by name; `default` always exists. */
export function findClassByName(
  snapshot: ClusterSnapshot,
  dmid: number,
  name: string,
  defaultMindevcount: number,
): ClassRow | undefined {
  return domainClasses(snapshot, dmid, defaultMindevcount).find((row) => row.name === name);
}
