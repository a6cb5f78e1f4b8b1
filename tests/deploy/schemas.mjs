// Every rendered object checked against the schema of its kind: the Kubernetes OpenAPI schemas and
// the KEDA and Prometheus-operator CRD schemas, as the kubernetes-models packages compile them
// (types, required fields, enums, patterns, formats). Those schemas, like the API server's OpenAPI,
// allow fields they do not name, which the API server refuses (kubectl's default strict field
// validation): the packages' TypeScript declarations, generated from the same schemas, name every
// field, so the TypeScript compiler finds the unknown ones. KEDA checks a trigger's metadata only
// when it scales, so its scalers' required keys are checked here.
import path from "node:path";
import { describe } from "./render.mjs";

// The module of the model for apiVersion/kind, or null for a group no package here covers.
function modelModule({ apiVersion = "", kind }) {
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  if (group === "keda.sh") return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  if (group === "" || !group.includes(".") || group.endsWith(".k8s.io")) return `kubernetes-models/${apiVersion}/${kind}`;
  return null;
}

function modelProblems(tools, objects) {
  const problems = [];
  for (const o of objects) {
    const module = modelModule(o);
    let Model;
    try {
      Model = module && tools.require(module)[o.kind];
    } catch {
      Model = undefined;
    }
    if (!Model) {
      problems.push(`${describe(o)}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (e) {
      problems.push(`${describe(o)}: ${e.message}`);
    }
  }
  return problems;
}

// One constant per object, typed with its model's interface; a field the type does not know is
// an excess property, reported at the line of the field.
function unknownFieldProblems(tools, objects) {
  const ts = tools.require("typescript");
  const lines = [];
  const owner = [];
  objects.forEach((o, i) => {
    const module = modelModule(o);
    if (!module) return;
    lines.push(`import type { I${o.kind} as T${i} } from "${module}";`);
    owner.push(null);
    const body = `export const o${i}: T${i} = ${JSON.stringify(o, null, 2)};`.split("\n");
    lines.push(...body);
    owner.push(...body.map(() => o));
  });
  const file = path.join(tools.dir, "rendered.ts");
  const source = lines.join("\n");
  const host = ts.createCompilerHost({});
  const read = host.getSourceFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language) : read(name, language, ...rest);
  host.fileExists = (name) => name === file || exists(name);
  const options = { strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2020,
                    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext };
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ").replace(/ in type '\{.*$/, " in its type");
    if (!d.file || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const o = owner[line];
    return `${o ? describe(o) : "rendering"}: ${message} (at: ${lines[line].trim()})`;
  });
}

// KEDA's scalers read their metadata as strings, and fail at run time without these keys.
const scalerKeys = {
  prometheus: { required: ["serverAddress", "query", "threshold"], numbers: ["threshold", "activationThreshold"] },
  cron: { required: ["timezone", "start", "end", "desiredReplicas"], numbers: ["desiredReplicas"] },
};

function triggerProblems(objects) {
  const problems = [];
  for (const o of objects.filter((x) => x.kind === "ScaledObject")) {
    for (const [i, t] of (o.spec?.triggers ?? []).entries()) {
      const where = `${describe(o)} trigger ${i} (${t.type})`;
      const keys = scalerKeys[t.type];
      if (!keys) {
        problems.push(`${where}: no check here for this scaler's metadata; add its keys to schemas.mjs`);
        continue;
      }
      for (const k of keys.required.filter((k) => !(k in (t.metadata ?? {})))) problems.push(`${where}: no ${k}`);
      for (const k of keys.numbers.filter((k) => k in (t.metadata ?? {}))) {
        if (!Number.isFinite(Number(t.metadata[k])) || t.metadata[k] === "") problems.push(`${where}: ${k} is not a number`);
      }
      for (const k of ["start", "end"].filter((k) => t.type === "cron" && k in (t.metadata ?? {}))) {
        if (t.metadata[k].trim().split(/\s+/).length !== 5) problems.push(`${where}: ${k} is not a 5-field cron schedule`);
      }
    }
  }
  return problems;
}

export function schemaProblems(tools, objects) {
  return [...modelProblems(tools, objects), ...unknownFieldProblems(tools, objects), ...triggerProblems(objects)];
}
