// The built cppworker, run as the manifest's container would run it, but on 127.0.0.1 and a port
// the system picks (as tests/support/worker_process does), its files in a scratch folder.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

// The environment variables cppworker reads, as its --help names them ("(Env:NAME)").
export function workerEnvNames(binary) {
  const help = execFileSync(binary, ["--help"], { encoding: "utf8" });
  const names = new Set([...help.matchAll(/Env:([A-Z0-9_]+)/g)].map((m) => m[1]));
  if (names.size < 10) throw new Error(`${binary} --help names only ${names.size} environment variables`);
  return names;
}

export function get(port, target) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: target, timeout: 10000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${target} timed out`)));
    req.on("error", reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, limitMs, probe) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs / 1000} s`);
    await sleep(100);
  }
}

// Runs `body(port)` against a worker started with the container's environment and arguments,
// then stops it with SIGTERM, as the kubelet does, and requires a clean exit.
export async function withWorker(binary, container, body) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "cppworker-deploy-"));
  const portFile = path.join(scratch, "port");
  const env = { PATH: process.env.PATH };
  for (const e of container.env ?? []) if ("value" in e) env[e.name] = e.value;
  Object.assign(env, { WORKER_PORT: "0", WORKER_LISTEN_ADDR: "127.0.0.1", WORKER_PORT_FILE: portFile,
                       BENCHMARK_CACHE: path.join(scratch, "benchmark") });
  if (env.MODEL_LOG) env.MODEL_LOG = path.join(scratch, path.basename(env.MODEL_LOG));
  // The worker runs in the scratch folder, as its container runs in its own working directory.
  const child = spawn(path.resolve(binary), container.args ?? [], { env, cwd: scratch, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  let failed = null;
  child.on("error", (e) => (failed = e));
  child.stderr.on("data", (d) => (log += d));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve(signal ?? code)));
  try {
    const port = await until("the worker listens", 20000, () => {
      if (failed) throw new Error(`cannot run ${binary}: ${failed.message}`);
      if (child.exitCode !== null || child.signalCode !== null) throw new Error("the worker exited at start");
      return fs.existsSync(portFile) ? Number(fs.readFileSync(portFile, "utf8")) : undefined;
    });
    await body(port);
    child.kill("SIGTERM");
    const code = await Promise.race([exited, sleep(60000).then(() => "no exit within 60 s")]);
    if (code !== 0) throw new Error(`the worker ended with ${code} after SIGTERM`);
  } catch (e) {
    e.message += `\n--- worker log ---\n${log}`;
    throw e;
  } finally {
    child.kill("SIGKILL");
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export { until };
