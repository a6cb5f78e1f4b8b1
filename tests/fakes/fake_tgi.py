#!/usr/bin/python3
"""Fake text-generation-inference (TGI) router, for cppworker's tests.

Speaks TGI's native API: POST /generate, POST /generate_stream, POST / (compat), GET /health,
GET /info, GET /metrics. Generates exactly max_new_tokens fake tokens " tok0", " tok1", ...,
one every --token-delay seconds. Writes a TGI --json-output style log ending in the router's
"Connected" line. See README.md in this folder.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import json  # noqa: E402
import time  # noqa: E402

from fake_common import FakeServer, compact_json, main, token_text, words  # noqa: E402

VERSION = "2.4.1"
SHA = "a094729386b5689aabfba40b7fdb207142dec8d5"


class Invalid(Exception):
    """A TGI validation error: 422 {"error","error_type":"validation"} (or an SSE error event)."""


class Rejected(Exception):
    """axum refused the request before TGI saw it: status + plain-text body."""

    def __init__(self, status, text):
        super().__init__(text)
        self.status = status
        self.text = text


def _pyjson_type(v):
    return {dict: "map", list: "sequence", str: "string", bool: "boolean", type(None): "unit value",
            int: "integer", float: "floating point"}.get(type(v), "value")


class FakeTGI(FakeServer):
    description = "fake text-generation-inference router"
    server_header = None  # axum/hyper send none
    not_found_style = "axum"

    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--model", default="fake-model", help="model_id reported by /info (default fake-model)")
        parser.add_argument("--max-total-tokens", type=int, default=4096,
                            help="input words + max_new_tokens allowed (default 4096)")
        parser.add_argument("--default-max-new-tokens", type=int, default=20,
                            help="max_new_tokens when the request has none (default 20)")
        parser.add_argument("--token-padding", type=int, default=0, metavar="N",
                            help="N '_' after each token's text, for streams of many bytes (default 0)")

    def setup_routes(self):
        self.route("GET", r"/health", self.health)
        self.route("GET", r"/info", self.info)
        self.route("GET", r"/metrics", self.metrics)
        self.route("POST", r"/generate", self.generate, model=True)
        self.route("POST", r"/generate_stream", self.generate_stream, model=True)
        self.route("POST", r"/", self.compat_generate, model=True)

    # ---- log ----
    def _launcher(self, message, level="INFO", span=None):
        line = {"timestamp": self.timestamp_iso(), "level": level, "fields": {"message": message},
                "target": "text_generation_launcher"}
        if span:
            line["span"] = span
            line["spans"] = [span]
        return json.dumps(line, separators=(",", ":"))

    def _router(self, message, target="text_generation_router", filename="router/src/main.rs", line_number=1):
        return json.dumps({"timestamp": self.timestamp_iso(), "level": "INFO", "message": message, "target": target,
                           "filename": filename, "line_number": line_number}, separators=(",", ":"))

    def startup_lines(self):
        a = self.args
        shard = {"rank": 0, "name": "shard-manager"}
        return [
            self._launcher(f"Args {{ model_id: \"{a.model}\", revision: None, validation_workers: 2, "
                           f"sharded: None, num_shard: None, quantize: None, dtype: None, "
                           f"max_total_tokens: Some({a.max_total_tokens}), hostname: \"0.0.0.0\", port: 5001, "
                           f"json_output: true, .. }}"),
            self._launcher("Starting check and download process for " + a.model, span={"name": "download"}),
            self._launcher("Starting download process.", span={"name": "download"}),
            self._launcher("Files are already present on the host. Skipping download.", span={"name": "download"}),
            self._launcher("Successfully downloaded weights for " + a.model, span={"name": "download"}),
            self._launcher("Starting shard", span=shard),
            self._launcher("Waiting for shard to be ready...", span=shard),
        ]

    def loaded_lines(self):
        a = self.args
        shard = {"rank": 0, "name": "shard-manager"}
        return [
            self._launcher("Server started at unix:///tmp/text-generation-server-0", span=shard),
            self._launcher(f"Shard ready in {a.load_delay:.2f}s", span=shard),
            self._launcher("Starting Webserver"),
            self._router("Using the Hugging Face API", filename="router/src/server.rs", line_number=1652),
            self._router("Warming up model", target="text_generation_router_v3",
                         filename="backends/v3/src/lib.rs", line_number=125),
            self._router(f"Setting max batch total tokens to {a.max_total_tokens * 4}",
                         target="text_generation_router_v3", filename="backends/v3/src/lib.rs", line_number=137),
            self._router("Connected", filename="router/src/main.rs", line_number=348),
        ]

    def failure_lines(self):
        shard = {"rank": 0, "name": "shard-manager"}
        return [
            self._launcher("Shard complete standard error output:\n\nTraceback (most recent call last):\n"
                           "  File \"/opt/conda/bin/text-generation-server\", line 8, in <module>\n"
                           "    sys.exit(app())\n"
                           "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.",
                           level="ERROR", span=shard),
            self._launcher("Shard 0 failed to start", level="ERROR"),
            self._launcher("Shutting down shards"),
            "Error: ShardCannotStart",
        ]

    # ---- errors ----
    def error_response(self, h, status, message):
        error_type = {422: "validation", 424: "generation", 429: "overloaded", 500: "incomplete_generation",
                      503: "healthcheck"}.get(status, "generation")
        text = {429: "Model is overloaded", 424: "Request failed during generation",
                500: "Incomplete generation", 503: "unhealthy"}.get(status, message)
        h.send_json(status, {"error": text, "error_type": error_type})

    # ---- plain routes ----
    def health(self, h):
        with self.state.lock:
            ok = self.state.loaded
        if ok:
            h.send_bytes(200, b"", None)
        else:
            h.send_json(503, {"error": "unhealthy", "error_type": "healthcheck"})

    def info(self, h):
        a = self.args
        h.send_json(200, {
            "model_id": a.model, "model_sha": None, "model_dtype": "torch.float16", "model_device_type": "cuda",
            "model_pipeline_tag": "text-generation", "max_concurrent_requests": 128, "max_best_of": 2,
            "max_stop_sequences": 4, "max_input_tokens": a.max_total_tokens - 1,
            "max_input_length": a.max_total_tokens - 1, "max_total_tokens": a.max_total_tokens,
            "waiting_served_ratio": 0.3, "max_batch_total_tokens": a.max_total_tokens * 4, "max_waiting_tokens": 20,
            "max_batch_size": None, "validation_workers": 2, "max_client_batch_size": 4,
            "router": "text-generation-router", "version": VERSION, "sha": SHA, "docker_label": "sha-" + SHA[:7],
        })

    def metrics(self, h):
        st = self.state.snapshot()
        text = (f"# TYPE tgi_request_count counter\ntgi_request_count {st['requests']}\n"
                f"# TYPE tgi_request_success counter\ntgi_request_success {st['completed']}\n"
                f"# TYPE tgi_queue_size gauge\ntgi_queue_size 0\n"
                f"# TYPE tgi_batch_current_size gauge\ntgi_batch_current_size {st['in_flight']}\n")
        h.send_text(200, text, content_type="text/plain; version=0.0.4")

    # ---- request parsing, the way axum + serde + TGI's validation do it ----
    def _parse(self, h):
        ctype = h.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not (ctype == "application/json" or ctype.endswith("+json")):
            raise Rejected(415, "Expected request with `Content-Type: application/json`")
        if h.json_error is not None or not h.body:
            msg = str(h.json_error) if h.json_error else "EOF while parsing a value at line 1 column 0"
            raise Rejected(400, f"Failed to parse the request body as JSON: {msg}")
        obj = h.json
        col = len(h.body)
        prefix = "Failed to deserialize the JSON body into the target type: "
        if not isinstance(obj, dict):
            raise Rejected(422, f"{prefix}invalid type: {_pyjson_type(obj)}, expected struct GenerateRequest "
                                f"at line 1 column {col}")
        if "inputs" not in obj:
            raise Rejected(422, f"{prefix}missing field `inputs` at line 1 column {col}")
        if not isinstance(obj["inputs"], str):
            raise Rejected(422, f"{prefix}inputs: invalid type: {_pyjson_type(obj['inputs'])}, expected a string "
                                f"at line 1 column {col}")
        params = obj.get("parameters") or {}
        if not isinstance(params, dict):
            raise Rejected(422, f"{prefix}parameters: invalid type: {_pyjson_type(params)}, expected struct "
                                f"GenerateParameters at line 1 column {col}")
        mnt = params.get("max_new_tokens")
        if mnt is not None and (isinstance(mnt, bool) or not isinstance(mnt, int) or mnt < 0):
            shown = f"integer `{mnt}`" if isinstance(mnt, int) else _pyjson_type(mnt)
            raise Rejected(422, f"{prefix}parameters.max_new_tokens: invalid value: {shown}, expected u32 "
                                f"at line 1 column {col}")
        return obj["inputs"], params

    def _validate(self, inputs, params, stream):
        mnt = params.get("max_new_tokens")
        max_new_tokens = self.args.default_max_new_tokens if mnt is None else mnt
        if stream and (params.get("best_of") or 1) != 1:
            raise Invalid("`best_of` != 1 is not supported when streaming tokens")
        if stream and params.get("decoder_input_details"):
            raise Invalid("`decoder_input_details` == true is not supported when streaming tokens")
        t = params.get("temperature")
        if t is not None and (not isinstance(t, (int, float)) or t <= 0):
            raise Invalid("`temperature` must be strictly positive")
        p = params.get("top_p")
        if p is not None and (not isinstance(p, (int, float)) or p <= 0 or p > 1):
            raise Invalid("`top_p` must be > 0.0 and < 1.0")
        k = params.get("top_k")
        if k is not None and (not isinstance(k, int) or k <= 0):
            raise Invalid("`top_k` must be strictly positive")
        if max_new_tokens == 0:
            raise Invalid("`max_new_tokens` must be strictly positive")
        if not inputs:
            raise Invalid("`inputs` cannot be empty")
        n_in = words(inputs)
        if n_in + max_new_tokens > self.args.max_total_tokens:
            raise Invalid(f"`inputs` tokens + `max_new_tokens` must be <= {self.args.max_total_tokens}. "
                          f"Given: {n_in} `inputs` tokens and {max_new_tokens} `max_new_tokens`")
        return max_new_tokens, n_in

    def _text(self, i):
        return token_text(i) + "_" * self.args.token_padding

    def _token(self, i):
        return {"id": 1000 + i, "text": self._text(i), "logprob": -0.1, "special": False}

    def _headers(self, h, n_in, n_out=None, elapsed=None):
        hs = [("x-compute-type", "gpu+optimized"), ("x-compute-characters", str(len(h.json.get("inputs", ""))))]
        if n_out is not None:
            ms = str(int((elapsed or 0) * 1000))
            hs += [("x-compute-time", f"{elapsed or 0:.6f}"), ("x-total-time", ms), ("x-validation-time", "0"),
                   ("x-queue-time", "0"), ("x-inference-time", ms),
                   ("x-time-per-token", str(int((elapsed or 0) * 1000 / max(n_out, 1)))),
                   ("x-prompt-tokens", str(n_in)), ("x-generated-tokens", str(n_out))]
        return hs

    def _log_success(self, params, n):
        self.log.write(json.dumps({"timestamp": self.timestamp_iso(), "level": "INFO", "message": "Success",
                                   "target": "text_generation_router::server", "filename": "router/src/server.rs",
                                   "line_number": 407, "span": {"parameters": json.dumps(params),
                                                                "name": "generate"}},
                                  separators=(",", ":")))

    # ---- model routes ----
    def _generate_response(self, h, inputs, params):
        """Runs a non-streamed generation; returns (response object, headers) or None if rejected."""
        try:
            n, n_in = self._validate(inputs, params, stream=False)
        except Invalid as e:
            h.send_json(422, {"error": f"Input validation error: {e}", "error_type": "validation"})
            return None
        start = time.monotonic()
        h.wait(n * self.token_delay())
        elapsed = time.monotonic() - start
        text = "".join(self._text(i) for i in range(n))
        if params.get("return_full_text"):
            text = inputs + text
        resp = {"generated_text": text}
        if params.get("details") or params.get("decoder_input_details"):
            resp["details"] = {
                "finish_reason": "length", "generated_tokens": n, "seed": params.get("seed"),
                "prefill": [], "tokens": [self._token(i) for i in range(n)],
            }
        self._log_success(params, n)
        return resp, self._headers(h, n_in, n, elapsed)

    def generate(self, h):
        try:
            inputs, params = self._parse(h)
        except Rejected as r:
            h.send_text(r.status, r.text)
            return
        out = self._generate_response(h, inputs, params)
        if out:
            h.send_json(200, out[0], headers=out[1])

    def compat_generate(self, h):
        try:
            inputs, params = self._parse(h)
        except Rejected as r:
            h.send_text(r.status, r.text)
            return
        if h.json.get("stream"):
            self._stream(h, inputs, params)
            return
        out = self._generate_response(h, inputs, params)
        if out:
            h.send_json(200, [out[0]], headers=out[1])

    def generate_stream(self, h):
        try:
            inputs, params = self._parse(h)
        except Rejected as r:
            h.send_text(r.status, r.text)
            return
        self._stream(h, inputs, params)

    def _stream(self, h, inputs, params):
        # TGI answers 200 and reports validation errors as an SSE event (axum's Sse is already chosen).
        try:
            n, n_in = self._validate(inputs, params, stream=True)
            error = None
        except Invalid as e:
            n, n_in, error = 0, words(inputs), e
        h.start_stream(200, "text/event-stream",
                       [("cache-control", "no-cache")] + self._headers(h, n_in) + [("x-accel-buffering", "no")])
        if error is not None:
            h.write_chunk(b"data:" + compact_json({"error": f"Input validation error: {error}",
                                                   "error_type": "validation"}) + b"\n\n")
            h.end_stream()
            return
        text = []
        for i in range(n):
            h.wait(self.token_delay())
            text.append(self._text(i))
            last = i == n - 1
            event = {"index": i + 1, "token": self._token(i), "generated_text": None, "details": None}
            if last:
                full = "".join(text)
                event["generated_text"] = (inputs + full) if params.get("return_full_text") else full
                if params.get("details"):
                    event["details"] = {"finish_reason": "length", "generated_tokens": n,
                                        "seed": params.get("seed"), "input_length": n_in}
            h.write_chunk(b"data:" + compact_json(event) + b"\n\n")
        h.end_stream()
        self._log_success(params, n)


if __name__ == "__main__":
    main(FakeTGI)
