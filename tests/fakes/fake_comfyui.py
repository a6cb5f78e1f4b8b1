#!/usr/bin/python3
"""Fake ComfyUI plus Vast's ComfyUI API wrapper in one process, for cppworker's tests.

ComfyUI:  POST /prompt, GET /prompt, GET /history[/<id>], GET /queue, POST /queue, POST /interrupt,
          GET /view, GET /system_stats (each also under /api/...).
Wrapper:  POST /generate/sync, POST /generate, GET /result/<id>, POST /cancel/<id>, GET /queue-info,
          GET /health.
One job runs at a time (ComfyUI's queue); a job takes (sampler steps) x --token-delay seconds.
Writes ComfyUI's start-up lines ending in "To see the GUI go to: ...". See README.md in this folder.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import random  # noqa: E402
import string  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import OrderedDict, deque  # noqa: E402

from fake_common import Disconnected, FakeServer, main, png_bytes, spaced_json  # noqa: E402

COMFY_VERSION = "0.3.43"
OUTPUT_CLASSES = {"SaveImage", "PreviewImage", "SaveAnimatedWEBP", "SaveAnimatedPNG", "SaveVideo", "SaveWEBM",
                  "SaveAudio", "SaveLatent", "VHS_VideoCombine", "SaveImageWebsocket"}
TERMINAL = ("completed", "failed", "timeout", "cancelled")


def is_output_node(class_type):
    return class_type in OUTPUT_CLASSES or class_type.startswith("Save") or class_type.startswith("Preview")


def now_ms():
    return int(time.time() * 1000)


class Job:
    def __init__(self, prompt_id, number, prompt, extra_data, outputs, steps, width, height, batch):
        self.prompt_id = prompt_id
        self.number = number
        self.prompt = prompt
        self.extra_data = extra_data
        self.outputs_to_execute = outputs
        self.steps = steps
        self.width, self.height, self.batch = width, height, batch
        self.status = "pending"  # pending, running, success, error, cancelled
        self.cancelled = False
        self.done = threading.Event()
        self.outputs = {}
        self.started = self.finished = None

    def queue_item(self):
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs_to_execute]


def text2image_workflow(mods):
    """The wrapper's baked-in Text2Image workflow with the modifications applied."""
    return {
        "3": {"class_type": "KSampler", "inputs": {
            "seed": mods.get("seed", 0), "steps": mods.get("steps", 20), "cfg": mods.get("cfg", 7),
            "sampler_name": "euler", "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["6", 0],
            "negative": ["7", 0], "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {
            "width": mods.get("width", 512), "height": mods.get("height", 512), "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": mods.get("prompt", ""), "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": mods.get("negative_prompt", ""), "clip": ["4", 1]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }


class FakeComfyUI(FakeServer):
    description = "fake ComfyUI + Vast ComfyUI API wrapper"
    server_header = None
    not_found_style = "fastapi"

    WRAPPER_PATHS = ("/generate", "/result/", "/cancel/", "/queue-info", "/health")

    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--comfy-path", default="/opt/ComfyUI",
                            help="ComfyUI install path shown in local_path (default /opt/ComfyUI)")
        parser.add_argument("--gui-url", default="http://127.0.0.1:18188",
                            help="URL in the loaded line (default http://127.0.0.1:18188)")

    def __init__(self, args):
        self.cv = threading.Condition()
        self.pending = deque()
        self.running = None
        self.history = OrderedDict()
        self.jobs = {}
        self.number = 0
        self.counters = {}
        self.files = {}
        self.results = {}
        super().__init__(args)
        threading.Thread(target=self._worker, daemon=True, name="comfy-queue").start()

    def setup_routes(self):
        api = r"(?:/api)?"
        self.route("POST", api + r"/prompt", self.post_prompt, model=True)
        self.route("GET", api + r"/prompt", self.get_prompt)
        self.route("GET", api + r"/history", self.get_history_all)
        self.route("GET", api + r"/history/([^/]+)", self.get_history)
        self.route("GET", api + r"/queue", self.get_queue)
        self.route("POST", api + r"/queue", self.post_queue)
        self.route("POST", api + r"/interrupt", self.interrupt)
        self.route("GET", api + r"/view", self.view)
        self.route("GET", api + r"/system_stats", self.system_stats)
        self.route("POST", r"/generate/sync", self.generate_sync, model=True)
        self.route("POST", r"/generate", self.generate_async, model=True)
        self.route("GET", r"/result/([^/]+)", self.get_result)
        self.route("POST", r"/cancel/([^/]+)", self.cancel)
        self.route("GET", r"/queue-info", self.queue_info)
        self.route("GET", r"/health", self.health)

    # ---- log ----
    def startup_lines(self):
        p = self.args.comfy_path
        t = time.strftime("%Y-%m-%d %H:%M:%S")
        return [
            "[START] Security scan", "[DONE] Security scan",
            "## ComfyUI-Manager: installing dependencies done.",
            f"** ComfyUI startup time: {t}.123", "** Platform: Linux",
            "** Python version: 3.12.3 (main, Feb  4 2025, 14:48:35) [GCC 13.3.0]",
            "** Python executable: /venv/main/bin/python", f"** ComfyUI Path: {p}",
            f"** ComfyUI Base Folder Path: {p}", f"** User directory: {p}/user",
            f"** Log path: {p}/user/comfyui.log", "",
            "Prestartup times for custom nodes:", f"   0.0 seconds: {p}/custom_nodes/ComfyUI-Manager", "",
            "Checkpoint files will always be loaded safely.",
            "Total VRAM 24111 MB, total RAM 64215 MB", "pytorch version: 2.7.0+cu128",
            "Set vram state to: NORMAL_VRAM", "Device: cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync",
            "Using pytorch attention",
        ]

    def loaded_lines(self):
        p = self.args.comfy_path
        return [
            "Python version: 3.12.3 (main, Feb  4 2025, 14:48:35) [GCC 13.3.0]",
            f"ComfyUI version: {COMFY_VERSION}", "ComfyUI frontend version: 1.23.4",
            "[Prompt Server] web root: /venv/main/lib/python3.12/site-packages/comfyui_frontend_package/static",
            "", "Import times for custom nodes:", f"   0.0 seconds: {p}/custom_nodes/websocket_image_save.py",
            f"   0.1 seconds: {p}/custom_nodes/ComfyUI-Manager", "", "Context impl SQLiteImpl.",
            "Will assume non-transactional DDL.", "No target revision found.", "Starting server", "",
            f"To see the GUI go to: {self.args.gui_url}",
        ]

    def failure_lines(self):
        return [
            "Provisioning container...",
            "Downloading: https://huggingface.co/fake/fake-model/resolve/main/model.safetensors",
            "curl: (22) The requested URL returned error: 404",
            "[ERROR] Provisioning Script failed",
        ]

    # ---- errors ----
    def _is_wrapper(self, path):
        return path.startswith(self.WRAPPER_PATHS)

    def error_response(self, h, status, message):
        if self._is_wrapper(h.url_path):
            rid = ((h.json or {}).get("input") or {}).get("request_id") if isinstance(h.json, dict) else None
            h.send_json(status, self._result(rid or str(uuid.uuid4()), "failed", message))
        else:
            h.send_json(status, {"error": {"type": "server_error", "message": message, "details": "",
                                           "extra_info": {}}, "node_errors": {}}, dumps=spaced_json)

    # ---- the queue ----
    def _validate(self, prompt):
        """(error or None, node_errors, job parameters) the way execution.validate_prompt judges a prompt."""
        if not isinstance(prompt, dict):
            return ({"type": "invalid_prompt", "message": "Cannot execute because the prompt is not an object.",
                     "details": "", "extra_info": {}}, {}, None)
        outputs = []
        steps, width, height, batch, sampler_seen = 0, 512, 512, 1, False
        for node_id, node in prompt.items():
            if not isinstance(node, dict) or "class_type" not in node:
                return ({"type": "invalid_prompt",
                         "message": "Cannot execute because a node is missing the class_type property.",
                         "details": f"Node ID '#{node_id}'", "extra_info": {}}, {}, None)
            ct = str(node["class_type"])
            inputs = node.get("inputs") or {}
            if is_output_node(ct):
                outputs.append(node_id)
            if "Sampler" in ct and isinstance(inputs.get("steps"), int) and not isinstance(inputs["steps"], bool):
                steps += max(0, inputs["steps"])
                sampler_seen = True
            if "Latent" in ct:
                if isinstance(inputs.get("width"), int):
                    width = inputs["width"]
                if isinstance(inputs.get("height"), int):
                    height = inputs["height"]
                if isinstance(inputs.get("batch_size"), int):
                    batch = max(1, inputs["batch_size"])
        if not outputs:
            return ({"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "",
                     "extra_info": {}}, {}, None)
        return None, {}, (outputs, steps if sampler_seen else 20, width, height, batch)

    def _enqueue(self, prompt, extra_data, params, prompt_id=None, number=None, front=False):
        outputs, steps, width, height, batch = params
        with self.cv:
            if number is None:
                number = self.number
                self.number += 1
            job = Job(prompt_id or str(uuid.uuid4()), number, prompt, extra_data, outputs, steps, width, height,
                      batch)
            self.jobs[job.prompt_id] = job
            (self.pending.appendleft if front else self.pending.append)(job)
            self.cv.notify_all()
        self.log.write("got prompt")
        return job

    def _next_filename(self, prefix, temp):
        subfolder, _, base = prefix.rpartition("/")
        if temp:
            base = "ComfyUI_temp_" + "".join(random.choice(string.ascii_lowercase) for _ in range(5))
            subfolder = ""
        with self.cv:
            key = (subfolder, base)
            n = self.counters.get(key, 1)
            self.counters[key] = n + 1
        return subfolder, f"{base}_{n:05d}_.png"

    def _worker(self):
        while not self.stopping.is_set():
            with self.cv:
                while not self.pending:
                    self.cv.wait(0.5)
                    if self.stopping.is_set():
                        return
                job = self.pending.popleft()
                if job.cancelled:
                    job.status = "cancelled"
                    job.done.set()
                    continue
                job.status = "running"
                self.running = job
            job.started = now_ms()
            messages = [["execution_start", {"prompt_id": job.prompt_id, "timestamp": job.started}],
                        ["execution_cached", {"nodes": [], "prompt_id": job.prompt_id, "timestamp": job.started}]]
            begin = time.monotonic()
            duration = job.steps * self.token_delay()
            while not job.cancelled and not self.stopping.is_set():
                left = begin + duration - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(0.05, left))
            job.finished = now_ms()
            if job.cancelled:
                job.status = "cancelled"
                messages.append(["execution_interrupted", {"prompt_id": job.prompt_id, "node_id": "3",
                                                           "node_type": "KSampler", "executed": [],
                                                           "timestamp": job.finished}])
                status = {"status_str": "error", "completed": False, "messages": messages}
                self.log.write("Processing interrupted", f"Prompt executed in {time.monotonic() - begin:.2f} seconds")
            else:
                for node_id in job.outputs_to_execute:
                    node = job.prompt[node_id]
                    temp = str(node["class_type"]).startswith("Preview")
                    prefix = str((node.get("inputs") or {}).get("filename_prefix") or "ComfyUI")
                    images = []
                    for _ in range(job.batch):
                        subfolder, filename = self._next_filename(prefix, temp)
                        kind = "temp" if temp else "output"
                        with self.cv:
                            self.files[(kind, subfolder, filename)] = (job.width, job.height)
                        images.append({"filename": filename, "subfolder": subfolder, "type": kind})
                    job.outputs[node_id] = {"images": images}
                job.status = "success"
                messages.append(["execution_success", {"prompt_id": job.prompt_id, "timestamp": job.finished}])
                status = {"status_str": "success", "completed": True, "messages": messages}
                rate = job.steps / max(time.monotonic() - begin, 1e-3)
                self.log.write(f"100%|██████████| {job.steps}/{job.steps} [00:0{min(int(duration), 9)}<00:00, "
                               f"{rate:.2f}it/s]",
                               f"Prompt executed in {time.monotonic() - begin:.2f} seconds")
            entry = {"prompt": job.queue_item(), "outputs": job.outputs, "status": status,
                     "meta": {n: {"node_id": n, "display_node": n, "parent_node": None, "real_node_id": n}
                              for n in job.outputs}}
            with self.cv:
                self.history[job.prompt_id] = entry
                self.running = None
            job.done.set()

    # ---- ComfyUI routes ----
    def post_prompt(self, h):
        if h.json_error is not None or not h.body:
            h.send_text(500, "500 Internal Server Error\n\nServer got itself in trouble")
            return
        obj = h.json if isinstance(h.json, dict) else {}
        if "prompt" not in obj:
            h.send_json(400, {"error": {"type": "no_prompt", "message": "No prompt provided",
                                        "details": "No prompt provided", "extra_info": {}}, "node_errors": {}},
                        dumps=spaced_json)
            return
        error, node_errors, params = self._validate(obj["prompt"])
        if error:
            self.log.write(f"invalid prompt: {error['message']}")
            h.send_json(400, {"error": error, "node_errors": node_errors}, dumps=spaced_json)
            return
        extra = dict(obj.get("extra_data") or {})
        if "client_id" in obj:
            extra["client_id"] = obj["client_id"]
        number = obj.get("number") if isinstance(obj.get("number"), (int, float)) else None
        job = self._enqueue(obj["prompt"], extra, params, prompt_id=obj.get("prompt_id"), number=number,
                            front=bool(obj.get("front")))
        h.send_json(200, {"prompt_id": job.prompt_id, "number": job.number, "node_errors": {}}, dumps=spaced_json)

    def get_prompt(self, h):
        with self.cv:
            remaining = len(self.pending) + (1 if self.running else 0)
        h.send_json(200, {"exec_info": {"queue_remaining": remaining}}, dumps=spaced_json)

    def get_history_all(self, h):
        try:
            max_items = int(h.query.get("max_items")) if h.query.get("max_items") else None
        except ValueError:
            max_items = None
        with self.cv:
            items = list(self.history.items())
        if max_items is not None:
            items = items[-max_items:] if max_items > 0 else []
        h.send_json(200, dict(items), dumps=spaced_json)

    def get_history(self, h, prompt_id):
        with self.cv:
            entry = self.history.get(prompt_id)
        h.send_json(200, {prompt_id: entry} if entry else {}, dumps=spaced_json)

    def get_queue(self, h):
        with self.cv:
            running = [self.running.queue_item()] if self.running else []
            pending = [j.queue_item() for j in self.pending if not j.cancelled]
        h.send_json(200, {"queue_running": running, "queue_pending": pending}, dumps=spaced_json)

    def post_queue(self, h):
        obj = h.json if isinstance(h.json, dict) else {}
        with self.cv:
            if obj.get("clear"):
                for j in self.pending:
                    j.cancelled = True
            for pid in obj.get("delete") or []:
                if pid in self.jobs and self.jobs[pid].status == "pending":
                    self.jobs[pid].cancelled = True
        h.send_bytes(200, b"", None)

    def interrupt(self, h):
        obj = h.json if isinstance(h.json, dict) else {}
        with self.cv:
            job = self.running
            if job and (not obj.get("prompt_id") or obj["prompt_id"] == job.prompt_id):
                job.cancelled = True
        h.send_bytes(200, b"", None)

    def view(self, h):
        filename = h.query.get("filename")
        if not filename:
            h.send_bytes(404, b"", None)
            return
        kind = h.query.get("type") or "output"
        if kind not in ("output", "input", "temp"):
            h.send_bytes(400, b"", None)
            return
        with self.cv:
            dims = self.files.get((kind, h.query.get("subfolder", ""), filename))
        if dims is None:
            h.send_bytes(404, b"", None)
            return
        h.send_bytes(200, png_bytes(*dims), "image/png",
                     headers=[("Content-Disposition", f'filename="{filename}"')])

    def system_stats(self, h):
        h.send_json(200, {
            "system": {"os": "posix", "ram_total": 67333255168, "ram_free": 60129542144,
                       "comfyui_version": COMFY_VERSION, "required_frontend_version": "1.23.4",
                       "python_version": "3.12.3 (main, Feb  4 2025, 14:48:35) [GCC 13.3.0]",
                       "pytorch_version": "2.7.0+cu128", "embedded_python": False, "argv": ["main.py"]},
            "devices": [{"name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync", "type": "cuda", "index": 0,
                         "vram_total": 25282281472, "vram_free": 24806785024, "torch_vram_total": 0,
                         "torch_vram_free": 0}],
        }, dumps=spaced_json)

    # ---- the wrapper ----
    @staticmethod
    def _result(rid, status, message, output=None, timings=None):
        return {"id": rid, "message": message, "status": status, "comfyui_response": {},
                "output": output or [], "timings": timings or {}}

    @staticmethod
    def _detail(*errors):
        return {"detail": list(errors)}

    def _wrapper_parse(self, h):
        """(request_id, workflow) or None after a 422 answer, as FastAPI + pydantic v2 would."""
        if not h.body:
            h.send_json(422, self._detail({"type": "missing", "loc": ["body"], "msg": "Field required",
                                           "input": None}))
            return None
        if h.json_error is not None:
            h.send_json(422, self._detail({"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error",
                                           "input": {}, "ctx": {"error": str(h.json_error).split(":")[0]}}))
            return None
        obj = h.json
        if not isinstance(obj, dict):
            h.send_json(422, self._detail({"type": "model_attributes_type", "loc": ["body"],
                                           "msg": "Input should be a valid dictionary or object to extract fields "
                                                  "from", "input": obj}))
            return None
        if "input" not in obj:
            h.send_json(422, self._detail({"type": "missing", "loc": ["body", "input"], "msg": "Field required",
                                           "input": obj}))
            return None
        inp = obj["input"]
        if not isinstance(inp, dict):
            h.send_json(422, self._detail({"type": "model_attributes_type", "loc": ["body", "input"],
                                           "msg": "Input should be a valid dictionary or object to extract fields "
                                                  "from", "input": inp}))
            return None
        workflow, modifier, mods = inp.get("workflow_json") or {}, inp.get("modifier") or "", \
            inp.get("modifications") or {}
        problem = None
        if workflow and modifier:
            problem = "Cannot provide both workflow_json and modifier - they are mutually exclusive"
        elif not workflow and not modifier:
            problem = "Must provide either workflow_json OR modifier"
        elif mods and not modifier:
            problem = "modifications can only be provided when modifier is specified"
        if problem:
            h.send_json(422, self._detail({"type": "value_error", "loc": ["body", "input"],
                                           "msg": f"Value error, {problem}", "input": inp, "ctx": {"error": {}}}))
            return None
        if modifier:
            workflow = text2image_workflow(mods if isinstance(mods, dict) else {})
        return str(inp.get("request_id") or uuid.uuid4()), workflow

    def _submit(self, rid, workflow):
        """Queues the workflow for a wrapper request; returns the Job, or None when ComfyUI refused it."""
        error, _, params = self._validate(workflow)
        if error:
            self.log.write(f"invalid prompt: {error['message']}")
            with self.cv:
                self.results[rid] = self._result(rid, "failed", f"Failed to queue prompt: {error['message']}")
            return None
        job = self._enqueue(workflow, {"client_id": "comfyui-api-wrapper"}, params)
        job.request_id = rid
        job.submitted = time.monotonic()
        with self.cv:
            self.results[rid] = self._result(rid, "processing", "Generating")
            self.results[rid]["_job"] = job
        return job

    def _finish(self, rid, job):
        with self.cv:
            if job.status == "success":
                output = []
                for node_id, out in job.outputs.items():
                    for img in out["images"]:
                        output.append({"filename": img["filename"],
                                       "local_path": f"{self.args.comfy_path}/output/{rid}/{img['filename']}",
                                       "subfolder": img["subfolder"], "type": img["type"], "node_id": node_id,
                                       "output_type": "images"})
                gen_ms = max(0, (job.finished or now_ms()) - (job.started or now_ms()))
                queued_ms = int((time.monotonic() - job.submitted) * 1000) - gen_ms
                result = self._result(rid, "completed", "Processing complete.", output,
                                      {"preprocess_ms": max(0, queued_ms), "generation_ms": gen_ms,
                                       "postprocess_ms": 1})
            else:
                result = self._result(rid, "cancelled", "Request cancelled")
            self.results[rid] = result
            return result

    def _result_status(self, result):
        return {"completed": 200, "failed": 500, "cancelled": 499, "timeout": 502}.get(result["status"], 200)

    def generate_sync(self, h):
        parsed = self._wrapper_parse(h)
        if not parsed:
            return
        rid, workflow = parsed
        job = self._submit(rid, workflow)
        if job is None:
            h.send_json(500, self.results[rid])
            return
        try:
            h.wait_until(job.done)
        except Disconnected:
            job.cancelled = True
            with self.cv:
                self.results[rid] = self._result(rid, "cancelled", "Request cancelled due to client disconnection")
            raise
        result = self._finish(rid, job)
        h.send_json(self._result_status(result), result)

    def generate_async(self, h):
        parsed = self._wrapper_parse(h)
        if not parsed:
            return
        rid, workflow = parsed
        job = self._submit(rid, workflow)
        if job is None:
            h.send_json(500, self.results[rid])
            return
        h.send_json(202, self._result(rid, "pending", "Request queued"))

    def get_result(self, h, rid):
        with self.cv:
            result = self.results.get(rid)
        if result is None:
            h.send_json(404, self._result(rid, "failed", "Request ID not found"))
            return
        job = result.get("_job")
        if job is not None and job.done.is_set():
            result = self._finish(rid, job)
        result = {k: v for k, v in result.items() if k != "_job"}
        h.send_json(self._result_status(result) if result["status"] in TERMINAL else 200, result)

    def cancel(self, h, rid):
        with self.cv:
            result = self.results.get(rid)
        if result is None:
            h.send_json(404, {"error": f"Request {rid} not found"})
            return
        if result["status"] in TERMINAL:
            h.send_json(200, {"message": f"Request {rid} is already {result['status']}", "status": result["status"]})
            return
        job = result.get("_job")
        if job is not None:
            job.cancelled = True
        with self.cv:
            self.results[rid] = self._result(rid, "cancelled", "Request cancelled by client")
        h.send_json(200, {"message": f"Successfully cancelled request {rid}", "status": "cancelled"})

    def queue_info(self, h):
        with self.cv:
            n = len(self.pending)
        h.send_json(200, {"preprocess_queue_size": 0, "generation_queue_size": n, "postprocess_queue_size": 0})

    def health(self, h):
        with self.cv:
            n = len(self.pending)
        with self.state.lock:
            ok = self.state.loaded
        body = {"status": "healthy" if ok else "unhealthy", "cache_type": "memory",
                "queues": {"preprocess": 0, "generation": n, "postprocess": 0}}
        h.send_json(200 if ok else 503, body)


if __name__ == "__main__":
    main(FakeComfyUI)
