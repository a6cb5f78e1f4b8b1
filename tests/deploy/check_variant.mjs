// One variant of deploy/kubernetes, rendered as `kubectl apply -k` renders it, then checked:
//   node check_variant.mjs schemas TOOLS VARIANT_DIR
//     every object against its kind's schema (schemas.mjs)
//   node check_variant.mjs agreement TOOLS VARIANT_DIR CPPWORKER VERSION
//     the values that must agree with the worker (agreement.mjs), the worker run with the
//     manifest's environment: its probe paths answer, its /metrics has what the scaler asks for
// Prints each problem and exits 1 if there is any.
import path from "node:path";
import { agreementProblems, workerOf } from "./agreement.mjs";
import { loadTools, render } from "./render.mjs";
import { schemaProblems } from "./schemas.mjs";
import { get, until, withWorker, workerEnvNames } from "./worker.mjs";

// What the worker answers on the probes' paths, and its /metrics, read from the running worker.
async function askWorker(binary, deployment) {
  const w = workerOf(deployment);
  if (!w) return { problems: [], metricsText: "" };
  const problems = [];
  let metricsText = "";
  await withWorker(binary, w.container, async (port) => {
    const live = await get(port, w.container.livenessProbe?.httpGet?.path ?? "/healthz");
    if (live.status !== 200) problems.push(`the liveness path answers ${live.status}, not 200`);
    // Without a model server in the pod the worker becomes ready by itself; with one (absent
    // here) it must say it is not ready yet, not that the path does not exist.
    const ready = w.env.MODEL_SERVER_URL ? [503] : [200];
    const readyPath = w.container.readinessProbe?.httpGet?.path ?? "/readyz";
    const status = await until(`${readyPath} answers ${ready}`, 30000, async () => {
      const r = await get(port, readyPath);
      return ready.includes(r.status) ? r.status : undefined;
    }).catch((e) => problems.push(e.message));
    if (typeof status === "number") console.log(`${readyPath}: ${status}`);
    const metrics = await get(port, "/metrics");
    if (metrics.status !== 200) problems.push(`/metrics answers ${metrics.status}`);
    metricsText = metrics.body;
  });
  return { problems, metricsText };
}

async function main([mode, toolsDir, variantDir, binary, version]) {
  const tools = loadTools(toolsDir);
  const objects = render(tools, variantDir);
  const name = path.basename(variantDir);
  let problems;
  if (mode === "schemas") {
    problems = schemaProblems(tools, objects);
  } else if (mode === "agreement") {
    const deployment = objects.find((o) => o.kind === "Deployment");
    const asked = deployment ? await askWorker(binary, deployment) : { problems: [], metricsText: "" };
    problems = [...asked.problems, ...agreementProblems(objects, {
      version, envNames: workerEnvNames(binary), metricsText: asked.metricsText })];
  } else {
    throw new Error(`unknown mode ${mode}: schemas or agreement`);
  }
  for (const p of problems) console.log(`${name}: ${p}`);
  const kinds = objects.map((o) => o.kind).join(", ");
  console.log(`${name}: ${objects.length} objects (${kinds}), ${mode}: ${problems.length} problem(s)`);
  return problems.length ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  console.error(e.message);
  process.exit(1);
});
