#!/usr/bin/python3
"""Fake OpenAI-compatible server as vLLM serves it, for cppworker's tests.

POST /v1/completions, POST /v1/chat/completions (both with "stream"), GET /v1/models, GET /health,
GET /ping, GET /version, GET /metrics. Generates exactly max_tokens fake tokens " tok0", " tok1", ...,
one every --token-delay seconds. Writes vLLM start-up lines ending in uvicorn's
"Application startup complete." See README.md in this folder.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import time  # noqa: E402
import uuid  # noqa: E402

from fake_common import FakeServer, compact_json, main, status_phrase, token_text, words  # noqa: E402

VERSION = "0.9.2"


class BadRequest(Exception):
    def __init__(self, message, status=400, err_type="BadRequestError"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.err_type = err_type


def _missing(field, obj):
    return BadRequest(f"[{{'type': 'missing', 'loc': ('body', '{field}'), 'msg': 'Field required', "
                      f"'input': {obj!r}}}]")


def _content_words(content):
    if isinstance(content, str):
        return words(content)
    if isinstance(content, list):  # [{"type": "text", "text": "..."}, ...]
        return sum(words(p.get("text", "")) for p in content if isinstance(p, dict))
    return 0


class FakeOpenAI(FakeServer):
    description = "fake OpenAI-compatible server (vLLM flavour)"
    server_header = "uvicorn"
    not_found_style = "fastapi"

    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--model", default="fake-model", help="served model name (default fake-model)")
        parser.add_argument("--max-model-len", type=int, default=4096,
                            help="prompt words + max_tokens allowed (default 4096)")
        parser.add_argument("--default-max-tokens", type=int, default=16,
                            help="max_tokens when the request has none (default 16, as /v1/completions)")
        parser.add_argument("--error-format", choices=["flat", "nested"], default="flat",
                            help="flat: {\"object\":\"error\",\"message\",...} (vLLM <= 0.10); "
                                 "nested: {\"error\":{...}} (newer vLLM)")

    def setup_routes(self):
        self.route("GET", r"/health", self.health)
        self.route("GET", r"/ping", self.health)
        self.route("GET", r"/version", lambda h: h.send_json(200, {"version": VERSION}))
        self.route("GET", r"/v1/models", self.models)
        self.route("GET", r"/metrics", self.metrics)
        self.route("POST", r"/v1/completions", self.completions, model=True)
        self.route("POST", r"/v1/chat/completions", self.chat_completions, model=True)

    # ---- log ----
    @staticmethod
    def _line(source, message, level="INFO"):
        return f"{level} {time.strftime('%m-%d %H:%M:%S')} [{source}] {message}"

    def startup_lines(self):
        a = self.args
        return [
            self._line("__init__.py:244", "Automatically detected platform cuda."),
            self._line("api_server.py:1287", f"vLLM API server version {VERSION}"),
            self._line("cli_args.py:309", f"non-default args: {{'model': '{a.model}', 'port': 18000, "
                                          f"'max_model_len': {a.max_model_len}}}"),
            self._line("config.py:823", "This model supports multiple tasks: {'generate', 'classify', 'embed', "
                                        "'reward', 'score'}. Defaulting to 'generate'."),
            self._line("config.py:2195", "Chunked prefill is enabled with max_num_batched_tokens=8192."),
            self._line("core.py:455", "Waiting for init message from front-end."),
            self._line("core.py:70", f"Initializing a V1 LLM engine (v{VERSION}) with config: model='{a.model}', "
                                     f"max_seq_len={a.max_model_len}, tensor_parallel_size=1, seed=0"),
            self._line("gpu_model_runner.py:1595", f"Starting to load model {a.model}..."),
        ]

    def loaded_lines(self):
        return [
            self._line("default_loader.py:272", "Loading weights took 1.52 seconds"),
            self._line("gpu_model_runner.py:1624", "Model loading took 0.93 GiB and 1.83 seconds"),
            self._line("kv_cache_utils.py:715", "GPU KV cache size: 1,235,552 tokens"),
            self._line("gpu_model_runner.py:2048", "Graph capturing finished in 9 secs, took 0.47 GiB"),
            self._line("core.py:171", "init engine (profile, create kv cache, warmup model) took 21.02 seconds"),
            self._line("api_server.py:1349", f"Starting vLLM API server 0 on http://0.0.0.0:{self.port}"),
            self._line("launcher.py:29", "Available routes are:"),
            self._line("launcher.py:37", "Route: /health, Methods: GET"),
            self._line("launcher.py:37", "Route: /v1/models, Methods: GET"),
            self._line("launcher.py:37", "Route: /v1/chat/completions, Methods: POST"),
            self._line("launcher.py:37", "Route: /v1/completions, Methods: POST"),
            f"INFO:     Started server process [{os.getpid()}]",
            "INFO:     Waiting for application startup.",
            "INFO:     Application startup complete.",
        ]

    def failure_lines(self):
        return [
            self._line("core.py:515", "EngineCore failed to start.", level="ERROR"),
            "Process EngineCore_0:",
            "Traceback (most recent call last):",
            '  File "/usr/lib/python3.12/multiprocessing/process.py", line 314, in _bootstrap',
            "    self.run()",
            '  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core.py", line 519, in run_engine_core',
            "    raise e",
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
            "of 23.55 GiB of which 1.02 GiB is free.",
            "Traceback (most recent call last):",
            '  File "/usr/local/bin/vllm", line 8, in <module>',
            "    sys.exit(main())",
            '  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core_client.py", line 469, in __init__',
            '    raise RuntimeError("Engine core initialization failed. "',
            "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}",
        ]

    def _access(self, h, status):
        self.log.write(f'INFO:     {h.client_address[0]}:{h.client_address[1]} - "{h.command} {h.path} '
                       f'{h.request_version}" {status} {status_phrase(status)}')

    # ---- errors ----
    def _error_body(self, status, message, err_type):
        if self.args.error_format == "nested":
            return {"error": {"message": message, "type": err_type, "param": None, "code": status}}
        return {"object": "error", "message": message, "type": err_type, "param": None, "code": status}

    def error_response(self, h, status, message):
        err_type = {400: "BadRequestError", 404: "NotFoundError", 500: "InternalServerError",
                    501: "NotImplementedError", 503: "ServiceUnavailableError"}.get(
            status, status_phrase(status).replace(" ", "").replace("'", "") + "Error")
        h.send_json(status, self._error_body(status, message, err_type))
        self._access(h, status)

    def _reject(self, h, e):
        h.send_json(e.status, self._error_body(e.status, e.message, e.err_type))
        self._access(h, e.status)

    # ---- plain routes ----
    def health(self, h):
        with self.state.lock:
            ok = self.state.loaded
        h.send_bytes(200 if ok else 503, b"", None)

    def models(self, h):
        a = self.args
        now = int(time.time())
        h.send_json(200, {"object": "list", "data": [{
            "id": a.model, "object": "model", "created": now, "owned_by": "vllm", "root": a.model, "parent": None,
            "max_model_len": a.max_model_len,
            "permission": [{"id": f"modelperm-{uuid.uuid4().hex}", "object": "model_permission", "created": now,
                            "allow_create_engine": False, "allow_sampling": True, "allow_logprobs": True,
                            "allow_search_indices": False, "allow_view": True, "allow_fine_tuning": False,
                            "organization": "*", "group": None, "is_blocking": False}],
        }]})

    def metrics(self, h):
        st = self.state.snapshot()
        text = (f"# TYPE vllm:num_requests_running gauge\n"
                f"vllm:num_requests_running{{model_name=\"{self.args.model}\"}} {st['in_flight']}\n"
                f"# TYPE vllm:request_success_total counter\n"
                f"vllm:request_success_total{{model_name=\"{self.args.model}\"}} {st['completed']}\n")
        h.send_text(200, text, content_type="text/plain; version=0.0.4; charset=utf-8")

    # ---- shared request checks ----
    def _body(self, h):
        if h.json_error is not None or not h.body:
            err = str(h.json_error) if h.json_error else "Expecting value: line 1 column 1 (char 0)"
            raise BadRequest(f"[{{'type': 'json_invalid', 'loc': ('body', 0), 'msg': 'JSON decode error', "
                             f"'input': {{}}, 'ctx': {{'error': '{err.split(':')[0]}'}}}}]")
        if not isinstance(h.json, dict):
            raise BadRequest(f"[{{'type': 'model_attributes_type', 'loc': ('body',), 'msg': 'Input should be a "
                             f"valid dictionary or object to extract fields from', 'input': {h.json!r}}}]")
        return h.json

    def _check_common(self, obj, prompt_tokens, what):
        model = obj.get("model")
        if model is not None and model != self.args.model:
            raise BadRequest(f"The model `{model}` does not exist.", 404, "NotFoundError")
        mt = obj.get("max_completion_tokens", obj.get("max_tokens"))
        if mt is None:
            mt = self.args.default_max_tokens
        if isinstance(mt, bool) or not isinstance(mt, int):
            raise BadRequest(f"[{{'type': 'int_type', 'loc': ('body', 'max_tokens'), "
                             f"'msg': 'Input should be a valid integer', 'input': {mt!r}}}]")
        if mt < 1:
            raise BadRequest(f"max_tokens must be at least 1, got {mt}.")
        if prompt_tokens + mt > self.args.max_model_len:
            raise BadRequest(
                f"This model's maximum context length is {self.args.max_model_len} tokens. However, you requested "
                f"{prompt_tokens + mt} tokens ({prompt_tokens} in the {what}, {mt} in the completion). "
                f"Please reduce the length of the {what} or completion.")
        stream = bool(obj.get("stream"))
        so = obj.get("stream_options") or {}
        if so and not stream:
            raise BadRequest("Stream options can only be defined when `stream=True`.")
        return mt, stream, bool(so.get("include_usage")), bool(so.get("continuous_usage_stats"))

    @staticmethod
    def _usage(prompt_tokens, completion_tokens):
        return {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens + completion_tokens,
                "completion_tokens": completion_tokens, "prompt_tokens_details": None}

    @staticmethod
    def _sse(obj):
        return b"data: " + compact_json(obj) + b"\n\n"

    def _start_sse(self, h):
        h.start_stream(200, "text/event-stream; charset=utf-8")
        self._access(h, 200)

    # ---- /v1/completions ----
    def completions(self, h):
        try:
            obj = self._body(h)
            if "prompt" not in obj or obj["prompt"] is None:
                raise _missing("prompt", obj)
            prompt = obj["prompt"]
            if isinstance(prompt, str):
                prompts = [(prompt, words(prompt))]
            elif isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
                prompts = [(p, words(p)) for p in prompt]
            elif isinstance(prompt, list) and prompt and all(isinstance(p, int) for p in prompt):
                prompts = [("", len(prompt))]
            elif isinstance(prompt, list) and prompt and all(isinstance(p, list) for p in prompt):
                prompts = [("", len(p)) for p in prompt]
            else:
                raise BadRequest("Either prompt or prompt_embeds must be provided and non-empty.")
            mt, stream, include_usage, continuous = self._check_common(obj, max(n for _, n in prompts), "prompt")
        except BadRequest as e:
            self._reject(h, e)
            return

        rid = f"cmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        model = self.args.model
        echo = bool(obj.get("echo"))
        prompt_tokens = sum(n for _, n in prompts)
        self.log.write(self._line("logger.py:43", f"Received request {rid}: prompt: {obj['prompt']!r}, params: "
                                                  f"SamplingParams(n=1, max_tokens={mt}), prompt_token_ids: None"),
                       self._line("engine.py:317", f"Added request {rid}."))

        if not stream:
            h.wait(mt * self.token_delay())
            text = "".join(token_text(i) for i in range(mt))
            choices = [{"index": k, "text": (p + text) if echo else text, "logprobs": None, "finish_reason": "length",
                        "stop_reason": None, "prompt_logprobs": None} for k, (p, _) in enumerate(prompts)]
            if h.send_json(200, {"id": rid, "object": "text_completion", "created": created, "model": model,
                                 "choices": choices, "usage": self._usage(prompt_tokens, mt * len(prompts)),
                                 "kv_transfer_params": None}):
                self._access(h, 200)
            return

        self._start_sse(h)
        for i in range(mt):
            h.wait(self.token_delay())
            last = i == mt - 1
            for k, (p, n) in enumerate(prompts):
                text = (p + token_text(i)) if (echo and i == 0) else token_text(i)
                chunk = {"id": rid, "object": "text_completion", "created": created, "model": model,
                         "choices": [{"index": k, "text": text, "logprobs": None,
                                      "finish_reason": "length" if last else None, "stop_reason": None}]}
                if continuous:
                    chunk["usage"] = self._usage(n, i + 1)
                h.write_chunk(self._sse(chunk))
        if include_usage:
            h.write_chunk(self._sse({"id": rid, "object": "text_completion", "created": created, "model": model,
                                     "choices": [], "usage": self._usage(prompt_tokens, mt * len(prompts))}))
        h.write_chunk(b"data: [DONE]\n\n")
        h.end_stream()

    # ---- /v1/chat/completions ----
    def chat_completions(self, h):
        try:
            obj = self._body(h)
            if "messages" not in obj or obj["messages"] is None:
                raise _missing("messages", obj)
            messages = obj["messages"]
            if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
                raise BadRequest(f"[{{'type': 'list_type', 'loc': ('body', 'messages'), "
                                 f"'msg': 'Input should be a valid list', 'input': {messages!r}}}]")
            prompt_tokens = sum(_content_words(m.get("content")) for m in messages)
            mt, stream, include_usage, continuous = self._check_common(obj, prompt_tokens, "messages")
        except BadRequest as e:
            self._reject(h, e)
            return

        rid = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        model = self.args.model
        self.log.write(self._line("engine.py:317", f"Added request {rid}."))

        if not stream:
            h.wait(mt * self.token_delay())
            text = "".join(token_text(i) for i in range(mt))
            message = {"role": "assistant", "reasoning_content": None, "content": text, "tool_calls": []}
            if h.send_json(200, {"id": rid, "object": "chat.completion", "created": created, "model": model,
                                 "choices": [{"index": 0, "message": message, "logprobs": None,
                                              "finish_reason": "length", "stop_reason": None}],
                                 "usage": self._usage(prompt_tokens, mt), "prompt_logprobs": None,
                                 "kv_transfer_params": None}):
                self._access(h, 200)
            return

        def chunk(delta, finish=None, usage_n=None):
            c = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            if finish:
                c["choices"][0]["stop_reason"] = None
            if continuous and usage_n is not None:
                c["usage"] = self._usage(prompt_tokens, usage_n)
            return self._sse(c)

        self._start_sse(h)
        h.write_chunk(chunk({"role": "assistant", "content": ""}, usage_n=0))
        for i in range(mt):
            h.wait(self.token_delay())
            h.write_chunk(chunk({"content": token_text(i)}, "length" if i == mt - 1 else None, usage_n=i + 1))
        if include_usage:
            h.write_chunk(self._sse({"id": rid, "object": "chat.completion.chunk", "created": created, "model": model,
                                     "choices": [], "usage": self._usage(prompt_tokens, mt)}))
        h.write_chunk(b"data: [DONE]\n\n")
        h.end_stream()


if __name__ == "__main__":
    main(FakeOpenAI)
