// The values of a rendered variant that must agree with cppworker and with each other: the pod's
// containers (pod_checks.mjs), the model server beside the worker, and the scaler. `facts` come
// from the built worker: its version, the environment variables its --help names, its /metrics.
import { describe } from "./render.mjs";
import {
  WORKER, envOf, flag, portOf, checkImage, checkEnv, checkProbes, checkScrape, checkService, checkGrace,
} from "./pod_checks.mjs";

const commandText = (c) => [...(c.command ?? []), ...(c.args ?? [])].join(" ");

// MODEL_SERVER_URL names a server in this pod: another container that serves that port (its
// command says so and its probes ask it) on a GPU. MODEL_LOG lies on a volume that container
// writes the log to, at the same file.
function checkModelServer(p, pod, worker, env) {
  const others = pod.spec.containers.filter((c) => c.name !== WORKER);
  if (!env.MODEL_SERVER_URL) {
    for (const c of others) p.push(`container ${c.name}: beside a worker without MODEL_SERVER_URL`);
    return;
  }
  const url = new URL(env.MODEL_SERVER_URL);
  const port = Number(url.port || 80);
  if (!["127.0.0.1", "localhost"].includes(url.hostname)) p.push(`MODEL_SERVER_URL ${url} is not in this pod`);
  const server = others.find((c) => new RegExp(`--port[ =]${port}\\b`).test(commandText(c)));
  if (!server) {
    p.push(`no container of the pod serves MODEL_SERVER_URL's port ${port} (--port ${port})`);
    return;
  }
  const probes = ["startupProbe", "livenessProbe"].filter((k) => portOf(server, server[k]?.httpGet?.port) === port);
  if (probes.length < 2) p.push(`container ${server.name}: needs a startupProbe and a livenessProbe on port ${port}`);
  const gpus = server.resources?.limits?.["nvidia.com/gpu"];
  if (!(Number(gpus) >= 1)) p.push(`container ${server.name}: no nvidia.com/gpu limit`);
  const requested = server.resources?.requests?.["nvidia.com/gpu"];
  if (requested !== undefined && String(requested) !== String(gpus)) p.push(`container ${server.name}: GPU request differs from its limit`);
  checkModelLog(p, pod, worker, server, env.MODEL_LOG);
}

function checkModelLog(p, pod, worker, server, log) {
  if (!log) {
    p.push("MODEL_LOG is not set: the worker cannot tell when the model is loaded");
    return;
  }
  const mount = (worker.volumeMounts ?? []).find((m) => log.startsWith(`${m.mountPath}/`));
  const volume = mount && pod.spec.volumes?.find((v) => v.name === mount.name);
  if (!volume?.emptyDir) {
    p.push(`MODEL_LOG ${log} is not on an emptyDir volume mounted in ${WORKER}`);
    return;
  }
  const theirs = (server.volumeMounts ?? []).find((m) => m.name === mount.name && !m.readOnly);
  const file = theirs && `${theirs.mountPath}${log.slice(mount.mountPath.length)}`;
  if (!theirs) p.push(`container ${server.name}: does not mount volume ${mount.name} writable`);
  else if (!commandText(server).includes(file)) p.push(`container ${server.name}: does not write its log to ${file}`);
}

// The metrics a query names, each of which /metrics must show as a sample.
const metricsOf = (query) => [...new Set(query.match(/\bcppworker_[a-zA-Z0-9_]+/g) ?? [])];
const exposes = (text, name) => new RegExp(`^${name}(\\{| )`, "m").test(text);

function checkScaler(p, scaled, deployment, metricsText) {
  if (!scaled) return;
  const target = scaled.spec.scaleTargetRef;
  if (target.name !== deployment.metadata.name || (target.kind ?? "Deployment") !== "Deployment") {
    p.push(`${describe(scaled)}: scales ${target.kind ?? "Deployment"}/${target.name}, not ${describe(deployment)}`);
  }
  const own = scaled.spec.triggers.filter((t) => t.type === "prometheus" && metricsOf(t.metadata?.query ?? "").length);
  if (!own.length) p.push(`${describe(scaled)}: no Prometheus trigger on a cppworker metric`);
  for (const t of own) {
    for (const name of metricsOf(t.metadata.query).filter((n) => !exposes(metricsText, n))) {
      p.push(`${describe(scaled)}: its query names ${name}, which the worker's /metrics does not have`);
    }
    // The README's formula, replicas = ceil(query / threshold), is AverageValue's.
    if ((t.metricType ?? "AverageValue") !== "AverageValue") p.push(`${describe(scaled)}: metricType is not AverageValue`);
    const ns = t.metadata.query.match(/namespace="([^"]*)"/)?.[1];
    if (ns !== deployment.metadata.namespace) p.push(`${describe(scaled)}: its query counts namespace ${ns}, not ${deployment.metadata.namespace}`);
    if (!(Number(t.metadata.threshold) > 0)) p.push(`${describe(scaled)}: threshold ${t.metadata.threshold} is not positive`);
  }
  // With no pod, no worker reports anything: zero pods needs a trigger that does not come from one.
  if ((scaled.spec.minReplicaCount ?? 0) === 0 && !scaled.spec.triggers.some((t) => t.type === "cron")) {
    p.push(`${describe(scaled)}: scales to zero with nothing to bring the first pod back`);
  }
}

function checkNamespace(p, objects, deployment) {
  const namespaces = objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name);
  if (namespaces.length !== 1 || namespaces[0] !== deployment.metadata.namespace) {
    p.push(`the variant creates namespace(s) ${namespaces.join(", ") || "(none)"}, its Deployment is in ${deployment.metadata.namespace}`);
  }
  for (const o of objects.filter((x) => x.kind !== "Namespace" && x.metadata.namespace !== deployment.metadata.namespace)) {
    p.push(`${describe(o)}: in namespace ${o.metadata.namespace}, not ${deployment.metadata.namespace}`);
  }
}

// The worker's container, its port and environment, as the worker itself would read them.
export function workerOf(deployment) {
  const worker = deployment.spec.template.spec.containers.find((c) => c.name === WORKER);
  if (!worker) return null;
  const env = envOf(worker);
  return { container: worker, env, port: Number(flag(worker, "--port") ?? env.WORKER_PORT ?? 3000) };
}

export function agreementProblems(objects, facts) {
  const p = [];
  const one = (kind) => {
    const found = objects.filter((o) => o.kind === kind);
    if (found.length !== 1) p.push(`expected one ${kind}, found ${found.length}`);
    return found[0];
  };
  const [deployment, service, monitor, scaled] = ["Deployment", "Service", "PodMonitor", "ScaledObject"].map(one);
  const w = deployment && workerOf(deployment);
  if (!w) return [...p, `no container named ${WORKER}`];
  const pod = deployment.spec.template;
  checkImage(p, w.container, facts.version);
  checkEnv(p, w.container, facts.envNames);
  checkProbes(p, w.container, w.port);
  checkScrape(p, pod, monitor, w.container, w.port);
  checkService(p, service, pod, w.container, w.port);
  checkGrace(p, pod, w.container, w.env);
  checkModelServer(p, pod, w.container, w.env);
  checkScaler(p, scaled, deployment, facts.metricsText);
  checkNamespace(p, objects, deployment);
  return p;
}
