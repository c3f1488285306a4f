/**
 * Commands that change the cluster (hosts, devices, domains, classes, settings, fsck,
 * rebalance, replication). With `admin_networks` set, only those networks may send them;
 * reads and file commands stay open to every client (docs/security.md).
 */
export const CLUSTER_CHANGING_COMMANDS: ReadonlySet<string> = new Set([
  'create_domain',
  'delete_domain',
  'create_class',
  'update_class',
  'delete_class',
  'create_host',
  'update_host',
  'delete_host',
  'create_device',
  'set_state',
  'set_weight',
  'set_server_setting',
  'replicate_now',
  'fsck_start',
  'fsck_stop',
  'fsck_reset',
  'fsck_clearlog',
  'rebalance_set_policy',
  'rebalance_start',
  'rebalance_stop',
  'rebalance_reset',
]);

/** `!` commands that act on the tracker process itself (spec §7). */
export const PROCESS_CHANGING_ADMIN_COMMANDS: ReadonlySet<string> = new Set([
  'shutdown',
  'want',
  'to',
]);
