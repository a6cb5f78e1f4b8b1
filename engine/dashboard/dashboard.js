// The engine's dashboard: polls GET /api/dashboard/?since=<last> twice a tick, so no sample goes
// by unseen in the workers' table, and at most each second (the account key from
// the URL's fragment, #key=..., which the browser never sends) and draws each endpoint: its
// workers' table, three uPlot charts over time, and the policy's actions.
'use strict';

const views = new Map();  // endpoint id -> what the page shows of it
let since = 0;
let pollMs = 500;
let limits = {samples: 3600, actions: 1000};

const el = (tag, attrs = {}, text = '') => {
  const e = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, v));
  e.textContent = text;
  return e;
};
const fmt = (x, digits = 2) => (x === null || x === undefined ? '–' : Number(x).toFixed(digits));
const clock = (t) => new Date(t * 1000).toLocaleTimeString();
const accountKey = () => new URLSearchParams(location.hash.slice(1)).get('key') || '';

// Each chart: its title, the y axis, and its series as [label, colour, field of a sample, stepped].
const charts = [
  ['Load (units/s)', 'units/s', [['anticipated', '#aaaaaa', 'anticipated_load'],
                                 ['offered', '#1f77b4', 'offered'], ['served', '#2ca02c', 'served']]],
  ['Estimated queue time (s)', 's', [['queue time', '#d62728', 'queue_time']]],
  ['Workers', 'workers', [['active wanted', '#9467bd', 'active_wanted', true],
                          ['loaded wanted', '#c5b0d5', 'total_wanted', true],
                          ['ready', '#2ca02c', 'ready', true], ['cold', '#17becf', 'cold', true],
                          ['starting', '#ff7f0e', 'starting', true]]],
];

function makeView(endpoint) {
  const section = el('section', {class: 'endpoint', id: `endpoint-${endpoint.id}`});
  section.append(el('h2', {}, `Endpoint ${endpoint.name} (${endpoint.id})`));
  const summary = section.appendChild(el('div', {class: 'summary'}));
  const table = section.appendChild(el('table', {class: 'workers'}));
  const head = table.createTHead().insertRow();
  ['worker', 'group', 'state', 'load', 'throughput / max (units/s)', 'requests working', 'error']
    .forEach((h) => head.append(el('th', {}, h)));
  const rows = table.createTBody();
  const grid = section.appendChild(el('div', {class: 'charts'}));
  const view = {section, summary, rows, data: [[]], plots: [], actions: null};
  for (const [title, unit, series] of charts) {
    const box = grid.appendChild(el('div', {class: 'chart', 'data-title': title, 'data-points': '0'}));
    const opts = {
      title, width: 460, height: 220, scales: {x: {time: true}},
      axes: [{}, {label: unit}],
      series: [{}, ...series.map(([label, stroke, , stepped]) => ({
        label, stroke, width: 2, spanGaps: false,
        ...(stepped ? {paths: uPlot.paths.stepped({align: 1})} : {}),
      }))],
    };
    const fields = series.map((s) => s[2]);
    view.plots.push({box, fields, plot: new uPlot(opts, [[], ...fields.map(() => [])], box)});
  }
  section.append(el('h3', {}, 'What the policy did'));
  view.actions = section.appendChild(el('ol', {class: 'actions', reversed: ''}));
  document.getElementById('endpoints').append(section);
  return view;
}

function showWorkers(view, sample) {
  view.rows.replaceChildren(...sample.workers.map((w) => {
    const row = el('tr', {'data-worker': w.id, 'data-state': w.state});
    [w.id, w.workergroup_id, w.state, fmt(w.cur_load), `${fmt(w.throughput)} / ${fmt(w.max_perf)}`,
     w.requests_working, w.error].forEach((v, i) => {
      row.append(el('td', i === 2 ? {class: 'state'} : i === 6 ? {class: 'error'} : {}, String(v)));
    });
    return row;
  }));
  view.summary.textContent = `${clock(sample.time)}: offered ${fmt(sample.offered)}/s, served ` +
    `${fmt(sample.served)}/s, queue time ${fmt(sample.queue_time)} s, ${sample.waiting} waiting; ` +
    `wanted ${sample.active_wanted} serving, ${sample.total_wanted} loaded` +
    (sample.groups.length ? ` (${sample.groups.map((g) => g.why).join('; ')})` : '');
}

function addSamples(view, samples) {
  if (!samples.length) return;
  for (const p of view.plots) {
    const data = p.plot.data.map((column) => column.slice());
    for (const s of samples) {
      data[0].push(s.time);
      p.fields.forEach((f, i) => data[i + 1].push(s[f]));
    }
    const over = data[0].length - limits.samples;
    if (over > 0) data.forEach((column) => column.splice(0, over));
    p.plot.setData(data);
    p.box.dataset.points = String(data[0].length);
  }
  showWorkers(view, samples[samples.length - 1]);
}

function addActions(view, actions) {
  for (const a of actions) {
    const what = `${clock(a.time)}: ${a.action} worker ${a.worker || '(none)'} of group ${a.workergroup_id}` +
      ` — ${a.reason}` + (a.error ? ` — failed: ${a.error}` : '');
    view.actions.prepend(el('li', {'data-action': a.action, class: a.error ? 'failed' : ''}, what));
  }
  while (view.actions.children.length > limits.actions) view.actions.lastChild.remove();
}

function update(answer) {
  limits = answer.limits;
  pollMs = Math.min(1000, Math.max(100, answer.tick * 500));
  const seen = new Set();
  for (const endpoint of answer.endpoints) {
    seen.add(endpoint.id);
    if (!views.has(endpoint.id)) views.set(endpoint.id, makeView(endpoint));
    addSamples(views.get(endpoint.id), endpoint.samples);
    addActions(views.get(endpoint.id), endpoint.actions);
  }
  for (const [id, view] of views) {
    if (!seen.has(id)) { view.section.remove(); views.delete(id); }
  }
  since = answer.last;
}

async function poll() {
  const status = document.getElementById('status');
  try {
    const answer = await fetch(`/api/dashboard/?since=${since}`,
                               {headers: {Authorization: `Bearer ${accountKey()}`}, cache: 'no-store'});
    if (answer.status === 401) {
      status.textContent = 'the account key is needed';
      document.getElementById('key-form').hidden = false;
      return;  // polling starts again when a key is given
    }
    if (!answer.ok) throw new Error(`${answer.status}: ${await answer.text()}`);
    const data = await answer.json();
    if (data.last < since) {
      // A new engine on the same address: its numbering started again, and so does the page.
      views.forEach((view) => view.section.remove());
      views.clear();
      since = 0;
      setTimeout(poll, 0);
      return;
    }
    update(data);
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    status.textContent = `the engine does not answer: ${e.message}`;
  }
  setTimeout(poll, pollMs);
}

document.getElementById('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  location.hash = `key=${encodeURIComponent(document.getElementById('key').value)}`;
  document.getElementById('key-form').hidden = true;
  poll();
});
poll();
