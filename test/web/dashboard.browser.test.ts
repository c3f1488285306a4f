import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/mogile-client.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT_DIR = resolve(import.meta.dirname, '..', '..', 'test-output');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// The one reason to skip: no browser to drive (.ci/run installs Debian's chromium).
describe.skipIf(!existsSync(CHROMIUM))(
  `dashboard in a browser${existsSync(CHROMIUM) ? '' : ` (skipped: ${CHROMIUM} is missing)`}`,
  () => {
    let cluster: TestCluster;
    let browser: Browser;

    beforeAll(async () => {
      cluster = await startCluster({
        nodes: 2,
        devicesPerNode: 2,
        tracker: { args: ['--http-sample-interval', '0.3'] },
      });
      const client = new MogileClient({ trackers: [cluster.trackerAddress], domain: 'd' });
      try {
        for (let i = 0; i < 5; i++) {
          await client.store(`dashboard-file-${i}`, Buffer.alloc(50_000 + i, i));
        }
      } finally {
        await client.close();
      }
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await cluster?.stop();
    });

    it('shows hosts, devices and charts with real values, and saves a screenshot', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      const failures: string[] = [];
      page.on('pageerror', (error) => failures.push(error.message));
      page.on('requestfailed', (request) => failures.push(`failed: ${request.url()}`));
      await page.goto(`http://127.0.0.1:${cluster.tracker.httpPort}/`);
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });

      await expect.poll(() => page.locator('.host').count()).toBe(2);
      const hostNames = await page.locator('.host h3').allTextContents();
      expect(hostNames.join(' ')).toMatch(/s1.*alive.*reachable/);
      expect(await page.locator('.device[data-devid]').count()).toBe(4);
      const deviceText = await page.locator('.device[data-devid="1"]').textContent();
      // Usage recorded from the node's usage file: "x MiB / y GiB", not the placeholder.
      expect(deviceText).toMatch(/dev1.*\d.*\/.*\d/);
      expect(await page.locator('.state.writeable').count()).toBe(4);
      const barWidth = await page
        .locator('.device[data-devid="1"] .usage > span')
        .evaluate((bar) => (bar as unknown as { style: { width: string } }).style.width);
      expect(barWidth).toMatch(/^\d+(\.\d+)?%$/);

      // uPlot charts: one canvas each, with at least two samples drawn.
      await expect.poll(() => page.locator('.chart .uplot canvas').count()).toBe(3);
      await expect
        .poll(
          () =>
            page.evaluate(async () => {
              const history = (await (await fetch('api/history')).json()) as { time: number[] };
              return history.time.length;
            }),
          { timeout: 10_000 },
        )
        .toBeGreaterThanOrEqual(2);
      const legend = await page.locator('#chart-requests .u-legend').textContent();
      expect(legend).toContain('requests/s');
      const summary = await page.locator('#summary').textContent();
      expect(summary).toMatch(/hosts\s*/);
      expect(await page.locator('#summary .stat .value').first().textContent()).toBe('2');
      expect(await page.locator('#connection').textContent()).toBe('live');

      mkdirSync(OUTPUT_DIR, { recursive: true });
      const screenshot = resolve(OUTPUT_DIR, 'dashboard.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(existsSync(screenshot)).toBe(true);
      expect(failures).toEqual([]);
    }, 60_000);
  },
);
