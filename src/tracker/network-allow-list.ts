import { BlockList, isIP } from 'node:net';

/** `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `v6/n`. */
export function isNetwork(text: string): boolean {
  const [address = '', bits, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const max = family === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

/**
 * The networks allowed to change the cluster (config `admin_networks`). An IPv4 client
 * reached over an IPv6 socket (`::ffff:a.b.c.d`) is checked as the IPv4 address it is.
 */
export class NetworkAllowList {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  constructor(networks: readonly string[]) {
    this.#empty = networks.length === 0;
    for (const network of networks) {
      const [address = '', bits] = network.split('/');
      const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.#list.addAddress(address, type);
      else this.#list.addSubnet(address, Number(bits), type);
    }
  }

  /** True when the list is empty (everyone allowed) or holds `ip`. */
  allows(ip: string): boolean {
    if (this.#empty) return true;
    const plain = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const family = isIP(plain);
    if (family === 0) return false;
    return this.#list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}
