"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol, for testing the
client's wire handling (retries, breaker, timeouts, streaming, usage).

With a `generate` function it answers with a real model (the local SmolLM2); otherwise it returns the
scripted replies it is given. Scripted replies make it a protocol test of the client, never an
answer-quality test: nothing downstream treats them as medical content.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    text: str = "protocol test reply"
    delay: float = 0.0
    retry_after: str | None = None
    usage: bool = True


@dataclass
class ServerState:
    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    generate: Callable[[list[dict[str, str]], int], str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            self.requests.append(body)
            if self.script:
                return self.script.pop(0)
        if self.generate is not None:
            return Reply(text=self.generate(body["messages"], int(body.get("max_tokens", 64))))
        return Reply()


def _handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            reply = state.next_reply(body)
            time.sleep(reply.delay)
            if reply.status != 200:
                headers = {"Retry-After": reply.retry_after} if reply.retry_after else {}
                self._send(reply.status, {"error": {"message": f"scripted {reply.status}"}}, headers)
            elif body.get("stream"):
                self._stream(body, reply)
            else:
                self._send(200, _completion(body, reply))

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, body: dict[str, Any], reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            words = reply.text.split(" ")
            for index, word in enumerate(words):
                delta = word if index == 0 else " " + word
                chunk = {"choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if reply.usage:
                usage = {"choices": [], "usage": _usage(body, reply.text)}
                self.wfile.write(f"data: {json.dumps(usage)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(m["content"].split()) for m in body["messages"])
    return {"prompt_tokens": prompt, "completion_tokens": len(text.split()), "total_tokens": 0}


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": body.get("model"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}
        ],
    }
    if reply.usage:
        payload["usage"] = _usage(body, reply.text)
    return payload


@contextmanager
def openai_server(state: ServerState) -> Iterator[str]:
    """Serves on an ephemeral loopback port; yields the base URL (…/v1)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
