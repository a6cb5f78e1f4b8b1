// The checks catch what they are there to catch: each mistake below, made in a copy of a rendered
// variant, must be reported with the words given, and the untouched variants must pass.
//   node self_test.mjs TOOLS DEPLOY_DIR CPPWORKER VERSION
import path from "node:path";
import { agreementProblems, workerOf } from "./agreement.mjs";
import { loadTools, render } from "./render.mjs";
import { schemaProblems } from "./schemas.mjs";
import { get, withWorker, workerEnvNames } from "./worker.mjs";

const find = (objects, kind) => objects.find((o) => o.kind === kind);
const pod = (o) => find(o, "Deployment").spec.template;
const worker = (o) => pod(o).spec.containers.find((c) => c.name === "cppworker");
const server = (o) => pod(o).spec.containers.find((c) => c.name !== "cppworker");
const setEnv = (c, name, value) => (c.env.find((e) => e.name === name).value = value);
const trigger = (o) => find(o, "ScaledObject").spec.triggers[0];

// [variant, what is wrong, the change, words the report must hold]
const mistakes = [
  ["hello_world", "a misspelt field", (o) => { const w = worker(o); w.readinesProbe = w.readinessProbe; delete w.readinessProbe; }, "readinesProbe"],
  ["hello_world", "a string for a number", (o) => (worker(o).livenessProbe.periodSeconds = "10"), "must be integer"],
  ["hello_world", "a kind no schema covers", (o) => (find(o, "PodMonitor").apiVersion = "monitoring.example.com/v1"), "no schema for"],
  ["hello_world", "a Prometheus trigger without its threshold", (o) => delete trigger(o).metadata.threshold, "no threshold"],
  ["hello_world", "readiness on the wrong path", (o) => (worker(o).readinessProbe.httpGet.path = "/ready"), "readinessProbe asks /ready"],
  ["hello_world", "liveness on another port", (o) => (worker(o).livenessProbe.httpGet.port = 8080), "livenessProbe port 8080"],
  ["hello_world", "WORKER_PORT apart from the container port", (o) => setEnv(worker(o), "WORKER_PORT", "3001"), "no containerPort 3001"],
  ["hello_world", "an environment variable the worker does not read", (o) => worker(o).env.push({ name: "WORKER_DRAIN_TIMOUT", value: "5" }), "WORKER_DRAIN_TIMOUT"],
  ["hello_world", "a grace period within the drain", (o) => (pod(o).spec.terminationGracePeriodSeconds = 35), "does not exceed preStop + drain"],
  ["hello_world", "a drain longer than the grace period", (o) => setEnv(worker(o), "WORKER_DRAIN_TIMEOUT", "60"), "does not exceed preStop + drain"],
  ["hello_world", "an image of another version", (o) => (worker(o).image = "cppworker:0.0.1"), "is not this version"],
  ["hello_world", "a scrape annotation on another port", (o) => (pod(o).metadata.annotations["prometheus.io/port"] = "9090"), "prometheus.io/port 9090"],
  ["hello_world", "a PodMonitor on a port the worker lacks", (o) => (find(o, "PodMonitor").spec.podMetricsEndpoints[0].port = "metrics"), "no endpoint scrapes"],
  ["hello_world", "a Service that selects nothing", (o) => (find(o, "Service").spec.selector = { app: "other" }), "selects no pod"],
  ["hello_world", "a query on a metric the worker lacks", (o) => (trigger(o).metadata.query = trigger(o).metadata.query.replace("queue_seconds", "queue_secs")), "does not have"],
  ["hello_world", "a query on another namespace", (o) => (trigger(o).metadata.query = trigger(o).metadata.query.replace("cppworker-hello-world", "default")), "counts namespace default"],
  ["hello_world", "a ScaledObject on another Deployment", (o) => (find(o, "ScaledObject").spec.scaleTargetRef.name = "other"), "scales Deployment/other"],
  ["hello_world", "scale to zero with nothing to wake it", (o) => (find(o, "ScaledObject").spec.minReplicaCount = 0), "nothing to bring the first pod back"],
  ["tgi", "a model server that stops while the worker drains", (o) => (server(o).lifecycle.preStop.exec.command[1] = "60"), "stops after 60 s"],
  ["tgi", "MODEL_SERVER_URL on a port nothing serves", (o) => setEnv(worker(o), "MODEL_SERVER_URL", "http://127.0.0.1:5002"), "port 5002"],
  ["tgi", "MODEL_LOG off the shared volume", (o) => setEnv(worker(o), "MODEL_LOG", "/tmp/infer.log"), "not on an emptyDir volume"],
  ["tgi", "a model server that logs elsewhere", (o) => (server(o).args[0] = server(o).args[0].replaceAll("infer.log", "tgi.log")), "does not write its log"],
  ["tgi", "a model server without a GPU", (o) => delete server(o).resources.limits["nvidia.com/gpu"], "no nvidia.com/gpu limit"],
];

async function main([toolsDir, deployDir, binary, version]) {
  const tools = loadTools(toolsDir);
  const rendered = Object.fromEntries(["hello_world", "tgi"].map((v) => [v, render(tools, path.join(deployDir, v))]));
  let metricsText = "";
  await withWorker(binary, workerOf(find(rendered.hello_world, "Deployment")).container, async (port) => {
    metricsText = (await get(port, "/metrics")).body;
  });
  const facts = { version, envNames: workerEnvNames(binary), metricsText };
  const report = (objects) => [...schemaProblems(tools, objects), ...agreementProblems(objects, facts)];
  let failures = 0;
  for (const [variant, objects] of Object.entries(rendered)) {
    const problems = report(objects);
    if (problems.length) console.log(`FAIL ${variant} as committed: ${problems.join("; ")}`);
    failures += problems.length ? 1 : 0;
  }
  for (const [variant, what, change, words] of mistakes) {
    const copy = structuredClone(rendered[variant]);
    change(copy);
    const problems = report(copy);
    const caught = problems.some((p) => p.includes(words));
    console.log(`${caught ? "caught" : "MISSED"} ${variant}: ${what}${caught ? "" : ` (reported: ${problems.join("; ") || "nothing"})`}`);
    failures += caught ? 0 : 1;
  }
  console.log(`self test: ${failures ? `${failures} check(s) failed` : `all ${mistakes.length} mistakes caught`}`);
  return failures ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  console.error(e.message);
  process.exit(1);
});
