/** What the monitor last saw of a device (spec behaviour.md §2.3); never stored in the DB. */
export interface DeviceObservation {
  readonly state: 'writeable' | 'readable' | 'unreachable';
  /** iostat %util as the node reported it, e.g. `12.50`. */
  readonly utilization?: string;
  readonly rejectBadMd5?: boolean;
}

/** Per-tracker observations of devices and hosts, written by the monitor. */
export class DeviceObservations {
  readonly #devices = new Map<number, DeviceObservation>();
  readonly #hostReachable = new Map<number, boolean>();

  device(devid: number): DeviceObservation | undefined {
    return this.#devices.get(devid);
  }

  setDevice(devid: number, observation: DeviceObservation): void {
    this.#devices.set(devid, observation);
  }

  hostReachable(hostid: number): boolean | undefined {
    return this.#hostReachable.get(hostid);
  }

  setHostReachable(hostid: number, reachable: boolean): void {
    this.#hostReachable.set(hostid, reachable);
  }
}
