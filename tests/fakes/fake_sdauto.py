#!/usr/bin/python3
"""Fake Stable Diffusion web UI (AUTOMATIC1111) in --api mode, for cppworker's tests.

POST /sdapi/v1/txt2img, POST /sdapi/v1/img2img, GET /sdapi/v1/progress, GET /sdapi/v1/sd-models,
GET /sdapi/v1/samplers, GET /sdapi/v1/options, POST /sdapi/v1/interrupt, GET /internal/ping.
One job runs at a time (A1111's queue lock); a job takes steps x --token-delay seconds and returns
batch_size x n_iter base64 PNGs. Writes A1111's start-up lines ending in "Model loaded in ...".
See README.md in this folder.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import base64  # noqa: E402
import binascii  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from fake_common import Disconnected, FakeServer, main, png_bytes  # noqa: E402

VERSION = "v1.10.1"
MODEL_HASH = "6ce0161689"
MODEL_NAME = "v1-5-pruned-emaonly"
MODEL_FILE = f"/models/{MODEL_NAME}.safetensors"

SAMPLERS = ["DPM++ 2M", "DPM++ SDE", "DPM++ 2M SDE", "DPM++ 2M SDE Heun", "DPM++ 2S a", "DPM++ 3M SDE", "Euler a",
            "Euler", "LMS", "Heun", "DPM2", "DPM2 a", "DPM fast", "DPM adaptive", "Restart", "DDIM", "DDIM CFG++",
            "PLMS", "UniPC", "LCM", "DPM++ 2M Karras", "DPM++ SDE Karras", "DPM++ 2M SDE Karras", "Euler a Karras",
            "LMS Karras", "DPM2 Karras", "DPM2 a Karras", "DPM++ 2S a Karras"]
SAMPLER_ALIASES = {"k_euler": "Euler", "k_euler_a": "Euler a", "k_lms": "LMS", "k_heun": "Heun",
                   "k_dpm_2": "DPM2", "k_dpm_2_a": "DPM2 a", "k_dpmpp_2m": "DPM++ 2M", "k_dpmpp_sde": "DPM++ SDE",
                   "ddim": "DDIM", "plms": "PLMS", "unipc": "UniPC", "lcm": "LCM"}

# The processing class's fields with their defaults, as the API model echoes them in "parameters".
COMMON_DEFAULTS = {
    "prompt": "", "negative_prompt": "", "styles": None, "seed": -1, "subseed": -1, "subseed_strength": 0,
    "seed_resize_from_h": -1, "seed_resize_from_w": -1, "sampler_name": None, "scheduler": None, "batch_size": 1,
    "n_iter": 1, "steps": 50, "cfg_scale": 7.0, "width": 512, "height": 512, "restore_faces": None, "tiling": None,
    "do_not_save_samples": False, "do_not_save_grid": False, "eta": None, "denoising_strength": None,
    "s_min_uncond": None, "s_churn": None, "s_tmax": None, "s_tmin": None, "s_noise": None,
    "override_settings": None, "override_settings_restore_afterwards": True, "refiner_checkpoint": None,
    "refiner_switch_at": None, "disable_extra_networks": False, "firstpass_image": None, "comments": None,
}
TXT2IMG_DEFAULTS = {
    **COMMON_DEFAULTS, "enable_hr": False, "firstphase_width": 0, "firstphase_height": 0, "hr_scale": 2.0,
    "hr_upscaler": None, "hr_second_pass_steps": 0, "hr_resize_x": 0, "hr_resize_y": 0, "hr_checkpoint_name": None,
    "hr_sampler_name": None, "hr_scheduler": None, "hr_prompt": "", "hr_negative_prompt": "",
    "force_task_id": None, "sampler_index": "Euler", "script_name": None, "script_args": [], "send_images": True,
    "save_images": False, "alwayson_scripts": {}, "infotext": None,
}
IMG2IMG_DEFAULTS = {
    **COMMON_DEFAULTS, "init_images": None, "resize_mode": 0, "image_cfg_scale": None, "mask": None,
    "mask_blur_x": 4, "mask_blur_y": 4, "mask_blur": None, "mask_round": True, "inpainting_fill": 0,
    "inpaint_full_res": True, "inpaint_full_res_padding": 0, "inpainting_mask_invert": 0,
    "initial_noise_multiplier": None, "latent_mask": None, "force_task_id": None, "sampler_index": "Euler",
    "include_init_images": False, "script_name": None, "script_args": [], "send_images": True, "save_images": False,
    "alwayson_scripts": {}, "infotext": None, "denoising_strength": 0.75,
}
INT_FIELDS = ("seed", "subseed", "seed_resize_from_h", "seed_resize_from_w", "batch_size", "n_iter", "steps",
              "width", "height", "firstphase_width", "firstphase_height", "hr_second_pass_steps", "hr_resize_x",
              "hr_resize_y", "resize_mode", "mask_blur_x", "mask_blur_y", "inpainting_fill",
              "inpaint_full_res_padding", "inpainting_mask_invert")
FLOAT_FIELDS = ("subseed_strength", "cfg_scale", "eta", "denoising_strength", "hr_scale", "image_cfg_scale",
                "s_min_uncond", "s_churn", "s_tmax", "s_tmin", "s_noise", "refiner_switch_at")


class FifoLock:
    """A lock granted in arrival order (A1111's queue_lock serves one job at a time)."""

    def __init__(self):
        self.cv = threading.Condition()
        self.next_ticket = 0
        self.serving = 0
        self.abandoned = set()

    def acquire(self, give_up):
        """True once it is our turn; False if give_up() said so first (the place in line is skipped)."""
        with self.cv:
            ticket = self.next_ticket
            self.next_ticket += 1
            while self.serving != ticket:
                if give_up():
                    self.abandoned.add(ticket)
                    return False
                self.cv.wait(0.05)
            return True

    def release(self):
        with self.cv:
            self.serving += 1
            while self.serving in self.abandoned:
                self.abandoned.discard(self.serving)
                self.serving += 1
            self.cv.notify_all()


class FakeSDAuto(FakeServer):
    description = "fake Stable Diffusion web UI (AUTOMATIC1111) API"
    server_header = "uvicorn"
    not_found_style = "fastapi"

    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--max-image-side", type=int, default=2048,
                            help="largest width/height actually rendered into the PNGs (default 2048)")

    def __init__(self, args):
        self.queue_lock = FifoLock()
        self.progress_lock = threading.Lock()
        self.current = None  # {"job": ..., "step": n, "steps": n, "started": t}
        self.job_count = 0
        super().__init__(args)

    def setup_routes(self):
        self.route("POST", r"/sdapi/v1/txt2img", self.txt2img, model=True)
        self.route("POST", r"/sdapi/v1/img2img", self.img2img, model=True)
        self.route("GET", r"/sdapi/v1/progress", self.progress)
        self.route("GET", r"/sdapi/v1/sd-models", self.sd_models)
        self.route("GET", r"/sdapi/v1/samplers", self.samplers)
        self.route("GET", r"/sdapi/v1/options", self.options)
        self.route("POST", r"/sdapi/v1/interrupt", self.interrupt)
        self.route("GET", r"/internal/ping", self.ping)

    # ---- log ----
    def startup_lines(self):
        return [
            "Python 3.10.14 (main, Apr  6 2024, 18:45:05) [GCC 11.4.0]", f"Version: {VERSION}",
            "Commit hash: 82a973c04367123ae98bd9abdf80d9eda9b910e2",
            "Launching Web UI with arguments: --api --listen --port 17860 --xformers",
            f"Loading weights [{MODEL_HASH}] from {MODEL_FILE}",
            "Running on local URL:  http://0.0.0.0:17860", "",
            "To create a public link, set `share=True` in `launch()`.",
            "Startup time: 9.8s (prepare environment: 3.0s, import torch: 2.9s, import gradio: 0.7s, "
            "setup paths: 0.8s, initialize shared: 0.2s, other imports: 0.4s, load scripts: 0.9s, "
            "create ui: 0.5s, gradio launch: 0.4s).",
            "Creating model from config: /opt/stable-diffusion-webui/configs/v1-inference.yaml",
        ]

    def loaded_lines(self):
        return [
            "Applying attention optimization: xformers... done.",
            "Model loaded in 4.2s (load weights from disk: 0.4s, create model: 0.5s, apply weights to model: 2.6s, "
            "calculate empty prompt: 0.3s).",
        ]

    def failure_lines(self):
        return [
            "loading stable diffusion model: RuntimeError",
            "Traceback (most recent call last):",
            '  File "/usr/lib/python3.10/threading.py", line 973, in _bootstrap',
            "    self._bootstrap_inner()",
            '  File "/opt/stable-diffusion-webui/modules/initialize.py", line 149, in load_model',
            "    shared.sd_model  # noqa: B018",
            '  File "/opt/stable-diffusion-webui/modules/sd_models.py", line 693, in load_model',
            "    sd_model = instantiate_from_config(sd_config.model, state_dict)",
            "RuntimeError: Couldn't load model",
            "",
            "Stable diffusion model failed to load",
        ]

    # ---- errors ----
    def error_response(self, h, status, message):
        # A1111's api_middleware shape for HTTPException and unexpected errors.
        h.send_json(status, {"error": "HTTPException", "detail": message, "body": "",
                             "errors": f"{status}: {message}"})

    # ---- plain routes ----
    def ping(self, h):
        with self.state.lock:
            ok = self.state.loaded
        if ok:
            h.send_json(200, {})
        else:
            h.send_json(503, {"detail": "Model not loaded"})

    def sd_models(self, h):
        h.send_json(200, [{"title": f"{MODEL_NAME}.safetensors [{MODEL_HASH}]", "model_name": MODEL_NAME,
                           "hash": MODEL_HASH,
                           "sha256": "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa",
                           "filename": MODEL_FILE, "config": None}])

    def samplers(self, h):
        h.send_json(200, [{"name": s, "aliases": [], "options": {}} for s in SAMPLERS])

    def options(self, h):
        h.send_json(200, {"sd_model_checkpoint": f"{MODEL_NAME}.safetensors [{MODEL_HASH}]",
                          "sd_checkpoint_hash": "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa",
                          "samples_format": "png", "CLIP_stop_at_last_layers": 1})

    def progress(self, h):
        with self.progress_lock:
            cur = dict(self.current) if self.current else None
            job_count = self.job_count
        if cur:
            frac = cur["step"] / max(cur["steps"], 1)
            elapsed = time.monotonic() - cur["started"]
            eta = (elapsed / frac - elapsed) if frac > 0 else cur["steps"] * self.token_delay()
            state = {"skipped": False, "interrupted": False, "stopping_generation": False, "job": cur["job"],
                     "job_count": job_count, "job_timestamp": cur["timestamp"], "job_no": 0,
                     "sampling_step": cur["step"], "sampling_steps": cur["steps"]}
        else:
            frac, eta = 0.0, 0.0
            state = {"skipped": False, "interrupted": False, "stopping_generation": False, "job": "",
                     "job_count": 0, "job_timestamp": "0", "job_no": 0, "sampling_step": 0, "sampling_steps": 0}
        h.send_json(200, {"progress": frac, "eta_relative": eta, "state": state, "current_image": None,
                          "textinfo": None})

    def interrupt(self, h):
        with self.progress_lock:
            if self.current:
                self.current["interrupted"] = True
        h.send_json(200, None)

    # ---- validation, the way FastAPI + pydantic v1 report it ----
    @staticmethod
    def _validation_errors(h, defaults):
        if not h.body or h.json_error is not None:
            doc = h.body.decode("utf-8", "replace")
            err = h.json_error
            msg = str(err) if err else "Expecting value: line 1 column 1 (char 0)"
            pos = getattr(err, "pos", 0) or 0
            return [{"loc": ["body", pos], "msg": msg, "type": "value_error.jsondecode",
                     "ctx": {"msg": getattr(err, "msg", "Expecting value"), "doc": doc, "pos": pos,
                             "lineno": getattr(err, "lineno", 1), "colno": getattr(err, "colno", 1)}}]
        if not isinstance(h.json, dict):
            return [{"loc": ["body"], "msg": "value is not a valid dict", "type": "type_error.dict"}]
        errors = []
        for k in INT_FIELDS:
            if k in defaults and h.json.get(k) is not None:
                v = h.json[k]
                ok = isinstance(v, (int, float)) or (isinstance(v, str) and v.strip().lstrip("+-").isdigit())
                if not ok:
                    errors.append({"loc": ["body", k], "msg": "value is not a valid integer",
                                   "type": "type_error.integer"})
        for k in FLOAT_FIELDS:
            if k in defaults and h.json.get(k) is not None:
                v = h.json[k]
                ok = isinstance(v, (int, float))
                if isinstance(v, str):
                    try:
                        float(v)
                        ok = True
                    except ValueError:
                        ok = False
                if not ok:
                    errors.append({"loc": ["body", k], "msg": "value is not a valid float",
                                   "type": "type_error.float"})
        for k in ("init_images", "styles", "script_args"):
            if k in defaults and h.json.get(k) is not None and not isinstance(h.json[k], list):
                errors.append({"loc": ["body", k], "msg": "value is not a valid list", "type": "type_error.list"})
        return errors

    @staticmethod
    def _coerce(req):
        for k in INT_FIELDS:
            if req.get(k) is not None:
                req[k] = int(float(req[k]))
        for k in FLOAT_FIELDS:
            if req.get(k) is not None:
                req[k] = float(req[k])
        return req

    def _http_error(self, h, status, detail):
        h.send_json(status, {"error": "HTTPException", "detail": detail, "body": "",
                             "errors": f"{status}: {detail}"})

    # ---- generation ----
    def _generate(self, h, kind, defaults):
        errors = self._validation_errors(h, defaults)
        if errors:
            h.send_json(422, {"detail": errors})
            return
        req = self._coerce({**defaults, **h.json})
        if kind == "img2img":
            if req["init_images"] is None:
                self._http_error(h, 404, "Init image not found")
                return
            for img in req["init_images"]:
                data = img.split(",", 1)[1] if isinstance(img, str) and img.startswith("data:") else img
                try:
                    if not isinstance(data, str):
                        raise ValueError("not a string")
                    base64.b64decode(data, validate=True)
                except (binascii.Error, ValueError):
                    self._http_error(h, 500, "Invalid encoded image")
                    return
        sampler = req.get("sampler_name") or req.get("sampler_index") or "Euler"
        sampler = SAMPLER_ALIASES.get(str(sampler).lower(), sampler)
        if sampler not in SAMPLERS:
            self._http_error(h, 404, "Sampler not found")
            return

        steps = max(0, req["steps"])
        count = max(0, req["batch_size"]) * max(0, req["n_iter"])
        width = max(1, min(req["width"], self.args.max_image_side))
        height = max(1, min(req["height"], self.args.max_image_side))

        def gone():
            return h.peer_closed() or self.stopping.is_set()

        with self.progress_lock:
            self.job_count += 1
        with self.state.lock:
            self.state.jobs += 1
            self.state.jobs_max = max(self.state.jobs_max, self.state.jobs)
        try:
            if not self.queue_lock.acquire(gone):
                raise Disconnected()
            try:
                stamp = time.strftime("%Y%m%d%H%M%S")
                with self.progress_lock:
                    self.current = {"job": f"task({kind})", "step": 0, "steps": steps, "started": time.monotonic(),
                                    "timestamp": stamp, "interrupted": False}
                for step in range(steps):
                    h.wait(self.token_delay())
                    with self.progress_lock:
                        self.current["step"] = step + 1
                        if self.current["interrupted"]:
                            break
                elapsed = time.monotonic() - self.current["started"]
            finally:
                with self.progress_lock:
                    self.current = None
                self.queue_lock.release()
        finally:
            with self.progress_lock:
                self.job_count -= 1
            with self.state.lock:
                self.state.jobs -= 1

        seed = req["seed"] if req["seed"] not in (None, -1) else random.randint(0, 2**32 - 1)
        subseed = req["subseed"] if req["subseed"] not in (None, -1) else random.randint(0, 2**32 - 1)
        image = base64.b64encode(png_bytes(width, height)).decode()
        images = [image] * count if req.get("send_images", True) else []
        infotext = (f"{req['prompt']}\nNegative prompt: {req['negative_prompt']}\nSteps: {steps}, Sampler: "
                    f"{sampler}, Schedule type: Automatic, CFG scale: {req['cfg_scale']}, Seed: {seed}, "
                    f"Size: {req['width']}x{req['height']}, Model hash: {MODEL_HASH}, Model: {MODEL_NAME}, "
                    f"Version: {VERSION}")
        info = {
            "prompt": req["prompt"], "all_prompts": [req["prompt"]] * count,
            "negative_prompt": req["negative_prompt"], "all_negative_prompts": [req["negative_prompt"]] * count,
            "seed": seed, "all_seeds": [seed + i for i in range(count)], "subseed": subseed,
            "all_subseeds": [subseed + i for i in range(count)], "subseed_strength": req["subseed_strength"],
            "width": req["width"], "height": req["height"], "sampler_name": sampler, "cfg_scale": req["cfg_scale"],
            "steps": steps, "batch_size": req["batch_size"], "restore_faces": False,
            "face_restoration_model": None, "sd_model_name": MODEL_NAME, "sd_model_hash": MODEL_HASH,
            "sd_vae_name": None, "sd_vae_hash": None, "seed_resize_from_w": req["seed_resize_from_w"],
            "seed_resize_from_h": req["seed_resize_from_h"], "denoising_strength": req["denoising_strength"],
            "extra_generation_params": {"Schedule type": "Automatic"}, "index_of_first_image": 0,
            "infotexts": [infotext] * count, "styles": req["styles"] or [], "job_timestamp": stamp,
            "clip_skip": 1, "is_using_inpainting_conditioning": False, "version": VERSION,
        }
        params = {k: v for k, v in req.items() if k != "include_init_images"}
        if kind == "img2img" and not req.get("include_init_images"):
            params["init_images"] = None  # A1111 drops them from the echo unless asked
            params["mask"] = None
        h.send_json(200, {"images": images, "parameters": params, "info": json.dumps(info)})
        self.log.write(f"Total progress: 100%|██████████| {steps}/{steps} [00:0{min(int(elapsed), 9)}<00:00, "
                       f"{steps / max(elapsed, 1e-3):.2f}it/s]")

    def txt2img(self, h):
        self._generate(h, "txt2img", TXT2IMG_DEFAULTS)

    def img2img(self, h):
        self._generate(h, "img2img", IMG2IMG_DEFAULTS)


if __name__ == "__main__":
    main(FakeSDAuto)
