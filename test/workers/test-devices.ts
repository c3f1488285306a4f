import type { DeviceView } from '../../src/tracker/device-state.js';

/** A device view for pure tests: `h` is the hostid, free share given in percent. */
export function view(devid: number, h: number, freePercent = 50, status = 'alive'): DeviceView {
  return {
    device: {
      devid,
      hostid: h,
      status,
      weight: 100,
      mbTotal: 1000,
      mbUsed: 1000 - freePercent * 10,
      mbAsof: 0,
    },
    host: {
      hostid: h,
      status: 'alive',
      name: `h${h}`,
      ip: '127.0.0.1',
      httpPort: 7500,
      httpGetPort: null,
      altIp: null,
      altMask: null,
    },
  };
}
