// The tracker dashboard: plain browser JavaScript, no build step. It polls the JSON
// status API and the in-memory history, and draws the history with uPlot.
/* global uPlot */

const REFRESH_MS = 2000;
const MIB = 1024 * 1024;

const CHARTS = {
  queues: [
    ['replicateQueue', 'replicate', '#3b7bd4'],
    ['deleteQueue', 'delete', '#cf3d3d'],
    ['fsckQueue', 'fsck', '#2e9d5b'],
    ['rebalanceQueue', 'rebalance', '#d99a1e'],
  ],
  requests: [
    ['requestsPerSecond', 'requests/s', '#3b7bd4'],
    ['errorsPerSecond', 'errors/s', '#cf3d3d'],
    ['p99Ms', 'p99 ms', '#8a4fd4'],
  ],
  workers: [
    ['copiesPerSecond', 'copies/s', '#3b7bd4'],
    ['deletionsPerSecond', 'deletions/s', '#cf3d3d'],
    ['fsckChecksPerSecond', 'fsck checks/s', '#2e9d5b'],
  ],
};

const plots = {};

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 && unit > 0 ? 1 : 0)} ${units[unit]}`;
}

function usageBar(ratio) {
  const bar = element('div', { class: 'usage' }, element('span'));
  const percent = Math.max(0, Math.min(100, Math.round(ratio * 1000) / 10));
  bar.firstChild.style.width = `${percent}%`;
  if (percent >= 95) bar.classList.add('full');
  else if (percent >= 80) bar.classList.add('high');
  bar.title = `${percent}% used`;
  return bar;
}

function stat(label, value) {
  return element(
    'div',
    { class: 'stat' },
    element('div', { class: 'value' }, value),
    element('div', { class: 'label' }, label),
  );
}

function renderSummary(status) {
  const queues = status.queues ?? {};
  const q = (name) => (status.queues ? queues[name] : '?');
  document
    .getElementById('summary')
    .replaceChildren(
      stat('hosts', status.hosts.length),
      stat('devices', status.devices.length),
      stat('replication queue', q('replicate')),
      stat('deletion queue', q('delete')),
      stat('fsck queue', q('fsck')),
      stat('requests served', status.requests.total),
      stat('DB pool in use / waiting', `${status.db.inUse} / ${status.db.waiting}`),
      stat('invariant violations', status.requests.invariantViolations),
    );
}

function renderHosts(status) {
  const container = document.getElementById('hosts');
  const cards = status.hosts.map((host) => {
    const reachable =
      host.reachable === null ? 'unknown' : host.reachable ? 'reachable' : 'unreachable';
    const card = element(
      'div',
      { class: 'host', 'data-host': host.name },
      element(
        'h3',
        {},
        host.name,
        element('span', { class: `state ${host.status}` }, host.status),
        element('span', { class: `state ${reachable}` }, reachable),
        element('span', { class: 'muted' }, host.address),
      ),
    );
    for (const device of status.devices.filter((d) => d.host === host.name)) {
      const used = device.mbUsed ?? 0;
      const ratio = device.mbTotal ? used / device.mbTotal : 0;
      const row = element(
        'div',
        { class: 'device', 'data-devid': String(device.devid) },
        element('span', {}, `dev${device.devid}`),
        usageBar(ratio),
        element(
          'span',
          { class: 'muted' },
          device.mbTotal
            ? `${formatBytes(used * MIB)} / ${formatBytes(device.mbTotal * MIB)}`
            : 'no usage yet',
        ),
      );
      const states = element(
        'div',
        { class: 'device' },
        element('span'),
        element(
          'span',
          {},
          element('span', { class: `state ${device.status}` }, device.status),
          ' ',
          element('span', { class: `state ${device.observed}` }, device.observed),
          device.utilization === null ? '' : ` io ${device.utilization}%`,
        ),
        element('span'),
      );
      card.append(row, states);
    }
    return card;
  });
  container.replaceChildren(...cards);
}

function renderProgress(id, progress) {
  const panel = document.getElementById(id);
  if (!progress) {
    panel.replaceChildren('status unavailable');
    return;
  }
  const parts = [
    element('div', {}, progress.running ? `running on ${progress.host}` : 'not running'),
  ];
  if (progress.progress !== null) {
    parts.push(usageBar(progress.progress));
    parts.push(element('div', { class: 'muted' }, `${Math.round(progress.progress * 100)}% done`));
  }
  const details = Object.entries(progress.detail)
    .map(([key, value]) => `${key} ${value}`)
    .join(' · ');
  if (details) parts.push(element('div', { class: 'muted' }, details));
  panel.replaceChildren(...parts);
}

function renderErrors(status) {
  document.getElementById('invariants').textContent =
    `${status.requests.invariantViolations} invariant violations, ` +
    `${status.requests.dbBusy} db_busy and ${status.requests.timeouts} timeouts since start`;
  const items = status.recentErrors.map((entry) =>
    element(
      'li',
      { class: entry.level },
      `${new Date(entry.timeMs).toLocaleTimeString()} [${entry.level}] ${entry.message}`,
    ),
  );
  if (items.length === 0) items.push(element('li', {}, 'no warnings or errors logged'));
  document.getElementById('errors').replaceChildren(...items);
}

function chartData(history, series) {
  return [history.time, ...series.map(([name]) => history.series[name])];
}

function renderCharts(history) {
  for (const [name, series] of Object.entries(CHARTS)) {
    const data = chartData(history, series);
    if (plots[name]) {
      plots[name].setData(data);
      continue;
    }
    const target = document.getElementById(`chart-${name}`);
    plots[name] = new uPlot(
      {
        width: Math.max(320, target.clientWidth),
        height: 220,
        series: [{}, ...series.map(([, label, stroke]) => ({ label, stroke, width: 2 }))],
        axes: [{}, { size: 50 }],
      },
      data,
      target,
    );
  }
}

async function fetchJson(path) {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function refresh() {
  const badge = document.getElementById('connection');
  try {
    const [status, history] = await Promise.all([
      fetchJson('api/status'),
      fetchJson('api/history'),
    ]);
    document.getElementById('tracker-name').textContent =
      `${status.tracker.hostname} · ${status.tracker.engine} · up ${status.tracker.uptimeSeconds} s`;
    renderSummary(status);
    renderHosts(status);
    renderProgress('fsck', status.fsck);
    renderProgress('rebalance', status.rebalance);
    renderErrors(status);
    renderCharts(history);
    document.getElementById('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    badge.textContent = 'live';
    badge.className = 'badge live';
    document.body.dataset.loaded = 'true';
  } catch (error) {
    badge.textContent = `disconnected: ${error.message}`;
    badge.className = 'badge down';
  }
}

window.addEventListener('resize', () => {
  for (const [name, plot] of Object.entries(plots)) {
    const target = document.getElementById(`chart-${name}`);
    plot.setSize({ width: Math.max(320, target.clientWidth), height: 220 });
  }
});

refresh();
setInterval(refresh, REFRESH_MS);
