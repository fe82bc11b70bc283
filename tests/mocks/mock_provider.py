#!/usr/bin/env python3
"""A mock AI provider for SampleMind's tests and benchmarks.

It speaks the wire protocols SampleMind uses:
  OpenAI     POST /v1/chat/completions        (Authorization: Bearer KEY)
  Anthropic  POST /v1/messages                (x-api-key, anthropic-version)
  Ollama     POST /api/chat, GET /api/tags
  Gemini     POST /v1beta/models/MODEL:generateContent   (x-goog-api-key)
and answers every task prompt ("Task: genre." ...) with a valid JSON answer.

Faults are injected per request with the header X-Mock-Fault, or queued for the
next requests with POST /_mock/faults {"faults": [...], "latency_ms": N}:
  429[:SECONDS]   429 with Retry-After (default 1)
  500, 503        server error
  malformed       200 with a body that is not JSON
  truncated       Content-Length larger than the body, then close
  hang            no answer for 60 s
  reset           TCP reset without a reply
  invalid         a well-formed reply whose answer breaks the task's schema
  delay:MS        this request answers after MS milliseconds
Control: GET /_mock/stats (calls per path, recent requests), POST /_mock/reset.

One asyncio event loop serves every connection (HTTP/1.1 keep-alive, listen backlog
4096, no Nagle): a thousand requests waiting out an injected latency cost a
coroutine each, not a thread, and the per-request Python work stays small.

Usage: mock_provider.py [--port N] [--port-file FILE] [--latency-ms N]
"""
import argparse
import asyncio
import gzip
import json
import os
import re
import socket
import struct
import sys

STATE = {"faults": [], "latency_ms": 0, "calls": {}, "total": 0, "requests": []}
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable"}


def answer_for(task):
    """A valid answer in the shape DESIGN.md gives for each task."""
    return {
        "genre": {"genres": [{"name": "techno", "confidence": 0.8},
                             {"name": "house", "confidence": 0.4}],
                  "reasoning": "four-on-the-floor kick at club tempo"},
        "mood": {"moods": [{"name": "dark", "confidence": 0.7}],
                 "energy": 0.8, "valence": 0.3},
        "tags": {"tags": ["punchy", "dark", "club"]},
        "description": {"description": "A punchy, dark techno kick."},
        "production": {"tips": ["layer with a short click", "tune to the track key"]},
        "mixing": {"tips": ["high-pass the other drums"], "issues": ["true peak near 0 dBTP"]},
        "pairing": {"suggestions": [{"category": "hihat", "query": "category:hihat bpm:125",
                                     "why": "offbeat hats complete the groove"}]},
    }.get(task, {"text": "unknown task"})


def invalid_for(task):
    return {"genres": "not a list"} if task == "genre" else {"nothing": True}


class Closed(Exception):
    """The reply ended the connection."""


class Request:
    def __init__(self, method, path, headers, raw, writer):
        self.command = method
        self.path = path
        self.headers = headers  # lower-case names
        self._raw = raw
        self.writer = writer
        self.close_connection = headers.get("connection", "").lower() == "close"

    def header(self, name):
        return self.headers.get(name.lower())

    def body_json(self):
        try:
            return json.loads(self._raw.decode() or "null")
        except ValueError:
            return None

    def head(self, code, headers):
        lines = ["HTTP/1.1 %d %s" % (code, REASONS.get(code, "Status")),
                 "Server: mock-provider/2"]
        lines += ["%s: %s" % kv for kv in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def send(self, code, obj, extra=None, raw=None):
        data = raw if raw is not None else json.dumps(obj).encode()
        headers = dict(extra or {})
        if "gzip" in (self.header("Accept-Encoding") or "") and len(data) > 0:
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        hl = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        hl += list(headers.items())
        self.writer.write(self.head(code, hl) + data)

    def next_fault(self):
        f = self.header("X-Mock-Fault")
        if not f and STATE["faults"]:
            f = STATE["faults"].pop(0)
        latency = STATE["latency_ms"]
        lat = self.header("X-Mock-Latency-Ms")
        if lat:
            latency = int(lat)
        return f, latency

    def record(self, body):
        path = self.path.split("?")[0]
        if path.startswith("/v1beta/models/"):
            path = "/v1beta/models:generateContent"
        STATE["calls"][path] = STATE["calls"].get(path, 0) + 1
        STATE["total"] += 1
        STATE["requests"].append({"path": self.path, "method": self.command,
                                  "headers": dict(self.headers), "body": body})
        del STATE["requests"][:-50]

    # Returns True when the fault produced the whole reply.
    async def apply_fault(self, fault, latency):
        if latency:
            await asyncio.sleep(latency / 1000.0)
        if not fault:
            return False
        if fault.startswith("delay:"):
            await asyncio.sleep(int(fault[6:]) / 1000.0)
            return False
        if fault.startswith("429"):
            ra = fault.split(":")[1] if ":" in fault else "1"
            self.send(429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                      {"Retry-After": ra})
            return True
        if fault in ("500", "502", "503"):
            self.send(int(fault), {"error": {"message": "upstream broke"}})
            return True
        if fault == "hang":
            await asyncio.sleep(60)
            raise Closed()
        if fault == "reset":
            sock = self.writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.writer.transport.abort()
            raise Closed()
        if fault == "malformed":
            self.send(200, None, raw=b'{"choices": [ this is not json')
            return True
        if fault == "truncated":
            data = b'{"choices": [{"message": {"content": "{\\"genres\\": ['
            self.writer.write(self.head(200, [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(data) + 500))]) + data)
            await self.writer.drain()
            raise Closed()
        return False  # "invalid" is handled by the protocol handlers

    # ------------------------------------------------------------------ routes
    async def do_GET(self):
        if self.path == "/_mock/stats":
            self.send(200, {"calls": STATE["calls"], "total": STATE["total"],
                            "requests": STATE["requests"]})
            return
        if self.path == "/api/tags":
            self.record(None)
            fault, latency = self.next_fault()
            if await self.apply_fault(fault, latency):
                return
            self.send(200, {"models": [{"name": "llama3.2:3b", "size": 2019393189},
                                       {"name": "qwen2.5:7b", "size": 4683087332}]})
            return
        if self.path.startswith("/v1/models"):
            self.record(None)
            self.send(200, {"object": "list", "data": [{"id": "gpt-4o-mini"}]})
            return
        self.send(404, {"error": {"message": "no such route"}})

    async def do_DELETE(self):
        self.send(404, {"error": {"message": "no such route"}})

    async def do_POST(self):
        body = self.body_json()
        path = self.path.split("?")[0]
        if path == "/_mock/reset":
            STATE.update({"faults": [], "latency_ms": 0, "calls": {}, "total": 0,
                          "requests": []})
            self.send(200, {"ok": True})
            return
        if path == "/_mock/faults":
            STATE["faults"].extend((body or {}).get("faults", []))
            if "latency_ms" in (body or {}):
                STATE["latency_ms"] = int(body["latency_ms"])
            self.send(200, {"ok": True})
            return
        self.record(body)
        fault, latency = self.next_fault()
        if await self.apply_fault(fault, latency):
            return
        prompt = json.dumps(body)
        m = re.search(r"Task: (\w+)", prompt)
        task = m.group(1) if m else "genre"
        ans = invalid_for(task) if fault == "invalid" else answer_for(task)
        text = json.dumps(ans)
        if path.endswith("/chat/completions"):
            # The OpenAI path needs a key; other prefixes play a keyless local server
            # (llama.cpp, vLLM, LM Studio).
            if path == "/v1/chat/completions" and \
                    not (self.header("Authorization") or "").startswith("Bearer "):
                self.send(401, {"error": {"message": "missing key"}})
                return
            self.send(200, {"id": "chatcmpl-mock", "object": "chat.completion",
                            "model": (body or {}).get("model", "gpt-4o-mini"),
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": text}}],
                            "usage": {"prompt_tokens": 321, "completion_tokens": 45,
                                      "total_tokens": 366}})
        elif path == "/v1/messages":
            if not self.header("x-api-key") or not self.header("anthropic-version"):
                self.send(401, {"type": "error", "error": {"type": "authentication_error"}})
                return
            self.send(200, {"id": "msg_mock", "type": "message", "role": "assistant",
                            "model": (body or {}).get("model"),
                            "content": [{"type": "text", "text": text}],
                            "stop_reason": "end_turn",
                            "usage": {"input_tokens": 300, "output_tokens": 40}})
        elif path == "/api/chat":
            self.send(200, {"model": (body or {}).get("model"), "done": True,
                            "message": {"role": "assistant", "content": text},
                            "prompt_eval_count": 280, "eval_count": 38})
        elif path.startswith("/v1beta/models/") and path.endswith(":generateContent"):
            if not self.header("x-goog-api-key"):
                self.send(403, {"error": {"code": 403, "message": "missing key"}})
                return
            self.send(200, {"candidates": [{"content": {"role": "model",
                                                        "parts": [{"text": text}]},
                                            "finishReason": "STOP"}],
                            "usageMetadata": {"promptTokenCount": 310,
                                              "candidatesTokenCount": 42,
                                              "totalTokenCount": 352}})
        else:
            self.send(404, {"error": {"message": "no such route"}})


async def serve(reader, writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) < 3:
                return
            headers = {}
            for ln in lines[1:]:
                if ":" in ln:
                    k, v = ln.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length") or 0)
            raw = await reader.readexactly(n) if n else b""
            rq = Request(parts[0], parts[1], headers, raw, writer)
            fn = getattr(rq, "do_" + parts[0], None)
            if fn is None:
                rq.send(404, {"error": {"message": "no such route"}})
            else:
                await fn()
            await writer.drain()
            if rq.close_connection:
                return
    except (Closed, ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - the peer may be gone already
            pass


async def amain(a):
    srv = await asyncio.start_server(serve, "127.0.0.1", a.port, backlog=4096,
                                     reuse_address=True, limit=1 << 20)
    port = srv.sockets[0].getsockname()[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(a.port_file + ".tmp", a.port_file)
    print(port, flush=True)
    async with srv:
        await srv.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--latency-ms", type=int, default=0)
    a = ap.parse_args()
    STATE["latency_ms"] = a.latency_ms
    try:
        asyncio.run(amain(a))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
