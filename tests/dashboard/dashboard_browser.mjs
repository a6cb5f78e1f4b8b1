// The engine's dashboard in Debian's headless chromium (README "The dashboard"): the real engine
// starts paced workers (10 requests/s each), the page opens, requests are routed through the engine
// and served by the workers as Vast's client would, and the test checks what the page shows: the
// first worker READY, a second one appearing as the load rises and becoming READY, the policy's
// creates listed, charts holding data and drawing it. A screenshot is kept.
//   node dashboard_browser.mjs --tools DIR --engine BIN --worker BIN --plugin SO --screenshot PNG
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {parseArgs} from 'node:util';

const {values: args} = parseArgs({options: {tools: {type: 'string'}, engine: {type: 'string'},
  worker: {type: 'string'}, plugin: {type: 'string'}, screenshot: {type: 'string'}}});
for (const name of ['tools', 'engine', 'worker', 'plugin', 'screenshot']) {
  if (!args[name]) throw new Error(`--${name} is missing`);
  args[name] = path.resolve(args[name]);
}
const puppeteer = createRequire(path.join(args.tools, 'package.json'))('puppeteer-core');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const started = Date.now();
const log = (text) => console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${text}`);
const accountKey = 'dashboard-test-account-key';

async function until(what, limitMs, check) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${limitMs / 1000} s: ${what}`);
    await sleep(100);
  }
}

function startEngine(run) {
  const config = {
    templates: {paced: {command: [args.worker, '--plugin', args.plugin],
                        env: {WORKER_SUPERVISE: 'false', BENCHMARK_CACHE: '{folder}/has_benchmark'}}},
    endpoints: [{endpoint_name: 'paced', api_key: 'paced-key', cold_workers: 1, max_workers: 2,
                 workergroups: [{template_hash: 'paced'}]}],
  };
  fs.writeFileSync(path.join(run, 'engine.json'), JSON.stringify(config));
  const out = fs.openSync(path.join(run, 'engine.log'), 'w');
  const env = {...process.env};
  for (const name of ['ENGINE_PORT', 'ENGINE_API_KEY', 'ENGINE_RUN_DIR', 'ENGINE_CONFIG', 'LOG_LEVEL']) delete env[name];
  return spawn(args.engine, ['--port', '0', '--port-file', path.join(run, 'engine.port'), '--run-dir', run,
                             '--config', path.join(run, 'engine.json'), '--api-key', accountKey, '--stop-grace', '10'],
               {stdio: ['ignore', out, out], env});
}

// One client of the endpoint, as Vast's client acts: /route/ (again with its request_idx while it
// is told to wait), then the worker named, with the signed auth_data.
async function client(engineUrl, running, outcomes) {
  while (running.on) {
    let idx = 0;
    let auth;
    while (running.on) {
      const answer = await (await fetch(`${engineUrl}/route/`, {method: 'POST', body: JSON.stringify(
        {endpoint: 'paced', api_key: 'paced-key', cost: 1, request_idx: idx, replay_timeout: 60})})).json();
      if (answer.url) { auth = answer; break; }
      idx = answer.request_idx;
      await sleep(200);
    }
    if (!auth) return;
    const served = await fetch(`${auth.url}/work`, {method: 'POST',
      body: JSON.stringify({auth_data: auth, payload: {ms: 100}})});
    await served.arrayBuffer();
    outcomes[served.status] = (outcomes[served.status] || 0) + 1;
  }
}

// The page's worker rows: id -> state.
const workerStates = (page) => page.$$eval('#endpoint-1 tr[data-worker]',
  (rows) => Object.fromEntries(rows.map((r) => [r.dataset.worker, r.dataset.state])));

// How many pixels of a chart's canvas are near `rgb`: the series drawn, not just the axes.
const pixelsOf = (page, title, rgb) => page.$eval(`#endpoint-1 .chart[data-title="${title}"] canvas`, (canvas, want) => {
  const {data} = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    const d = Math.abs(data[i] - want[0]) + Math.abs(data[i + 1] - want[1]) + Math.abs(data[i + 2] - want[2]);
    if (data[i + 3] > 200 && d < 60) ++n;
  }
  return n;
}, rgb);

async function openPage(browser, engineUrl) {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The browser's own ask for /favicon.ico (the page has none) is no error of the page's.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url?.endsWith('/favicon.ico')) pageErrors.push(m.text());
  });
  await page.setViewport({width: 1440, height: 1200});
  await page.goto(`${engineUrl}/#key=${accountKey}`);
  log('page open');
  return {page, pageErrors};
}

async function checkActionsAndCharts(page) {
  const creates = await page.$$eval('#endpoint-1 li[data-action="create"]', (items) => items.map((i) => i.textContent));
  log(`actions listed: ${creates.join(' | ')}`);
  if (creates.length < 2) throw new Error('the page lists fewer than 2 creates');
  const points = await page.$$eval('#endpoint-1 .chart', (boxes) => boxes.map((b) => Number(b.dataset.points)));
  log(`points per chart: ${points.join(', ')}`);
  if (points.length !== 3 || points.some((n) => n < 5)) throw new Error('a chart has hardly any data');
  // Served follows offered closely and is drawn over it: either line counts.
  const load = await pixelsOf(page, 'Load (units/s)', [0x1f, 0x77, 0xb4]) +
    await pixelsOf(page, 'Load (units/s)', [0x2c, 0xa0, 0x2c]);
  const ready = await pixelsOf(page, 'Workers', [0x2c, 0xa0, 0x2c]);
  log(`pixels drawn: offered and served load ${load}, ready workers ${ready}`);
  if (load < 100 || ready < 100) throw new Error('a chart draws no line');
  const summary = await page.$eval('#endpoint-1 .summary', (e) => e.textContent);
  log(`summary: ${summary}`);
  if (!/offered [1-9]/.test(summary)) throw new Error('the summary shows no offered load');
}

async function main() {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'cppworker-dashboard-'));
  const engine = startEngine(run);
  let browser;
  const running = {on: true};
  const outcomes = {};
  const clients = [];
  let ok = false;
  try {
    const port = await until('the engine listens', 30000, () => {
      try { return fs.readFileSync(path.join(run, 'engine.port'), 'utf8').trim(); } catch { return ''; }
    });
    const engineUrl = `http://127.0.0.1:${port}`;
    log(`engine on ${engineUrl}`);
    browser = await puppeteer.launch({executablePath: '/usr/bin/chromium', headless: true,
      userDataDir: path.join(run, 'chromium'),
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run']});
    const {page, pageErrors} = await openPage(browser, engineUrl);

    await until('worker 1 READY on the page', 60000, async () => (await workerStates(page))['1'] === 'READY');
    log('worker 1 READY');

    // 4 clients of 100 ms requests: the first worker serves 10 a second, so the offered load reaches
    // what it can take, and the policy (target_util 0.9) wants a second worker.
    for (let i = 0; i < 4; ++i) clients.push(client(engineUrl, running, outcomes));
    const seen2 = new Set();
    await until('a second worker on the page, seen starting, then READY', 60000, async () => {
      const state = (await workerStates(page))['2'];
      if (state) seen2.add(state);
      return state === 'READY';
    });
    log(`worker 2 went through ${[...seen2].join(' -> ')}`);
    if (!seen2.has('LOADING') && !seen2.has('MODEL_LOADING')) throw new Error('worker 2 was never seen starting');
    await sleep(3000);  // the load, spread over both, on the charts
    await checkActionsAndCharts(page);

    fs.mkdirSync(path.dirname(args.screenshot), {recursive: true});
    await page.screenshot({path: args.screenshot, fullPage: true});
    log(`screenshot: ${args.screenshot}`);
    if (pageErrors.length) throw new Error(`the page reported errors: ${pageErrors.join('; ')}`);
    ok = true;
  } finally {
    running.on = false;
    await Promise.allSettled(clients);
    log(`requests served by status: ${JSON.stringify(outcomes)}`);
    if (browser) await browser.close();
    engine.kill('SIGTERM');
    if (engine.exitCode === null) await once(engine, 'exit');
    if (!ok) console.error(`engine log:\n${fs.readFileSync(path.join(run, 'engine.log'), 'utf8').split('\n').slice(-80).join('\n')}`);
    fs.rmSync(run, {recursive: true, force: true});
  }
}

main().then(() => log('ok'), (e) => {
  console.error(`FAILED: ${e.stack || e}`);
  process.exitCode = 1;
});
