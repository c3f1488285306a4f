import { MogileClient } from '../../client/mogile-client.js';

/**
 * One MogileClient per domain, talking to this tracker's own protocol listener: the
 * gateway reads files exactly as every other client does (get_paths, file_info,
 * checksums), so URL signing and invariant checks apply to it too. Callers check that
 * the domain exists before asking, so the map stays as small as the domain list.
 */
export class DomainClients {
  readonly #trackerAddress: string;
  readonly #clients = new Map<string, MogileClient>();

  constructor(trackerAddress: string) {
    this.#trackerAddress = trackerAddress;
  }

  get(domain: string): MogileClient {
    let client = this.#clients.get(domain);
    if (!client) {
      client = new MogileClient({ trackers: [this.#trackerAddress], domain });
      this.#clients.set(domain, client);
    }
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((client) => client.close()));
    this.#clients.clear();
  }
}
