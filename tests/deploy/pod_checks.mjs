// Checks of the cppworker container of a rendered variant against the worker itself (README,
// "Configuration" and "HTTP interface"): its image, environment, probes, scrape configuration,
// Service, and the shutdown sequence that lets a scale-down lose no request.
import { describe } from "./render.mjs";

const WORKER = "cppworker";

const envOf = (c) => Object.fromEntries((c.env ?? []).filter((e) => "value" in e).map((e) => [e.name, e.value]));

// A flag's value in a container's args ("--x v" or "--x=v"); flags win over the environment.
function flag(c, name) {
  const args = c.args ?? [];
  for (const [i, a] of args.entries()) {
    if (a === name) return args[i + 1];
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
  }
  return undefined;
}

// A probe's or a Service's port: a number, or the name of one of the container's ports.
const portOf = (c, ref) => (typeof ref === "number" ? ref : (c.ports ?? []).find((p) => p.name === ref)?.containerPort);

const selects = (selector = {}, labels = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

// The seconds a preStop hook takes: it must be a plain pause for the sums below to mean anything.
function pauseOf(p, c) {
  const hook = c.lifecycle?.preStop;
  if (!hook) return 0;
  if (hook.sleep) return Number(hook.sleep.seconds);
  const cmd = hook.exec?.command ?? [];
  if (cmd.length === 2 && cmd[0] === "sleep" && /^\d+$/.test(cmd[1])) return Number(cmd[1]);
  p.push(`container ${c.name}: its preStop is not a plain pause (sleep N), so its length is unknown`);
  return 0;
}

function checkImage(p, worker, version) {
  const tag = worker.image.includes(":") ? worker.image.slice(worker.image.lastIndexOf(":") + 1) : "";
  if (!/(^|\/)cppworker:/.test(worker.image)) p.push(`container ${WORKER}: image ${worker.image} is not a cppworker image`);
  if (tag !== version) p.push(`container ${WORKER}: image tag ${tag || "(none)"} is not this version, ${version}`);
}

function checkEnv(p, worker, known) {
  for (const e of worker.env ?? []) {
    if (!known.has(e.name)) p.push(`container ${WORKER}: cppworker reads no environment variable ${e.name}`);
  }
}

function checkProbes(p, worker, port) {
  const want = { readinessProbe: ["/readyz"], livenessProbe: ["/healthz"], startupProbe: ["/healthz", "/readyz"] };
  for (const [probe, paths] of Object.entries(want)) {
    const get = worker[probe]?.httpGet;
    if (!worker[probe]) {
      if (probe !== "startupProbe") p.push(`container ${WORKER}: no ${probe}`);
      continue;
    }
    if (!get) {
      p.push(`container ${WORKER}: ${probe} is not an HTTP GET`);
      continue;
    }
    if (!paths.includes(get.path)) p.push(`container ${WORKER}: ${probe} asks ${get.path}, not ${paths.join(" or ")}`);
    if (portOf(worker, get.port) !== port) p.push(`container ${WORKER}: ${probe} port ${get.port} is not the worker's port ${port}`);
  }
  if (!(worker.ports ?? []).some((x) => x.containerPort === port)) p.push(`container ${WORKER}: no containerPort ${port}`);
}

function checkScrape(p, pod, monitor, worker, port) {
  const a = pod.metadata?.annotations ?? {};
  if (a["prometheus.io/scrape"] !== "true") p.push("pod template: prometheus.io/scrape is not \"true\"");
  if (a["prometheus.io/port"] !== String(port)) p.push(`pod template: prometheus.io/port ${a["prometheus.io/port"]} is not ${port}`);
  if (a["prometheus.io/path"] !== "/metrics") p.push(`pod template: prometheus.io/path ${a["prometheus.io/path"]} is not /metrics`);
  if (!monitor) return;
  if (!selects(monitor.spec?.selector?.matchLabels, pod.metadata?.labels)) p.push(`${describe(monitor)}: selects no pod of the Deployment`);
  const endpoints = monitor.spec?.podMetricsEndpoints ?? [];
  if (!endpoints.some((e) => portOf(worker, e.port) === port && (e.path ?? "/metrics") === "/metrics")) {
    p.push(`${describe(monitor)}: no endpoint scrapes /metrics on the worker's port ${port}`);
  }
}

function checkService(p, service, pod, worker, port) {
  if (!service) return;
  if (!selects(service.spec?.selector, pod.metadata?.labels)) p.push(`${describe(service)}: selects no pod of the Deployment`);
  if (!(service.spec?.ports ?? []).some((s) => portOf(worker, s.targetPort ?? s.port) === port)) {
    p.push(`${describe(service)}: no port leads to the worker's port ${port}`);
  }
}

// The worker pauses (preStop), then drains for up to the drain timeout; every other container
// (the model server) must keep serving until then, and the grace period must outlast them all.
function checkGrace(p, pod, worker, env) {
  const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
  const drain = Number(flag(worker, "--drain-timeout") ?? env.WORKER_DRAIN_TIMEOUT ?? 30);
  const done = pauseOf(p, worker) + drain;
  if (!(grace > done)) p.push(`terminationGracePeriodSeconds ${grace} does not exceed preStop + drain = ${done} s`);
  for (const c of pod.spec.containers.filter((x) => x.name !== WORKER)) {
    const pause = pauseOf(p, c);
    if (pause < done) p.push(`container ${c.name}: stops after ${pause} s, while cppworker may drain until ${done} s`);
    if (!(grace > pause)) p.push(`container ${c.name}: its preStop (${pause} s) does not end within the grace period ${grace} s`);
  }
}

export { envOf, flag, portOf, checkImage, checkEnv, checkProbes, checkScrape, checkService, checkGrace, WORKER };
