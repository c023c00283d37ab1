"""Fixtures of the LLM tests: a loopback wire server, data slices, one real local model.

The wire server is a real HTTP server on 127.0.0.1 that answers like Ollama's ``/api/chat`` and
Anthropic's ``/v1/messages``; the official clients are pointed at it (``host=`` /
``base_url=``), so the SDKs' own request and response code runs, without any network.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.config import parse_config
from papertape.engine.journal import read_journal
from papertape.engine.session import SessionResult, run_session

DATA = Path(__file__).parent / "data"
SP500 = Path(__file__).resolve().parents[3] / "papertape" / "engine" / "data" / "sp500_daily.csv"


def body(name: str) -> Any:
    """A recorded response body from ``data/``."""
    return json.loads((DATA / name).read_text())


@dataclass
class Reply:
    """What the server sends back."""

    status: int = 200
    payload: Any = None
    raw: bytes | None = None
    delay: float = 0.0


@dataclass
class Seen:
    """A request the server received."""

    path: str
    headers: dict[str, str]
    json: Any


Handler = Callable[[Seen], Reply]


@dataclass
class WireServer:
    """Scriptable loopback server; ``on(path, handler)`` decides the answers."""

    url: str
    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, path: str, handler: Handler | Reply) -> None:
        self.routes[path] = handler if callable(handler) else (lambda _s, r=handler: r)

    def requests(self, path: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path == path]


def _handler_class(server: WireServer) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            n = int(self.headers.get("content-length", 0))
            raw = self.rfile.read(n)
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode(errors="replace")
            seen = Seen(
                self.path.split("?")[0], {k.lower(): v for k, v in self.headers.items()}, payload
            )
            with server.lock:
                server.seen.append(seen)
            handler = server.routes.get(seen.path)
            reply = handler(seen) if handler else Reply(404, {"error": "no route"})
            if reply.delay:
                threading.Event().wait(reply.delay)
            data = reply.raw if reply.raw is not None else json.dumps(reply.payload).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

    return H


@pytest.fixture(scope="session")
def _wire_server() -> Iterator[WireServer]:
    server = WireServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(server))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def wire(_wire_server: WireServer, monkeypatch: pytest.MonkeyPatch) -> WireServer:
    """The loopback server with fresh routes; Ollama and Anthropic clients point at it."""
    _wire_server.routes.clear()
    with _wire_server.lock:
        _wire_server.seen.clear()
    monkeypatch.setenv("OLLAMA_HOST", _wire_server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789-secret")
    return _wire_server


def ollama_reply(content: str, done_reason: str = "stop", **extra: Any) -> Reply:
    """An Ollama ``/api/chat`` answer with ``content`` as the assistant message."""
    payload = body("ollama_chat.json")
    payload["message"]["content"] = content
    payload["done_reason"] = done_reason
    payload.update(extra)
    return Reply(200, payload)


def decision_json(**fields: Any) -> str:
    """A decision as JSON text (valid by default)."""
    d = {
        "reasoning": "test",
        "action": "HOLD",
        "size": 0.0,
        "confidence": 0.5,
        "stop_loss_pct": None,
        "take_profit_pct": None,
    }
    d.update(fields)
    return json.dumps(d)


@pytest.fixture
def sp500_slice(tmp_path: Path) -> Callable[[int], Path]:
    """Write the first ``n`` bars of the shipped S&P 500 file to a CSV; return its path."""
    lines = SP500.read_text().splitlines()

    def make(n: int) -> Path:
        path = tmp_path / f"spx_{n}.csv"
        path.write_text("\n".join(lines[: n + 1]) + "\n")
        return path

    return make


def run_llm(
    data: Path,
    journal_dir: Path,
    *strategies: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> tuple[SessionResult, list[dict[str, Any]]]:
    """Run a session with the given strategy entries; return the result and journal records."""
    raw = {
        "run": {"name": "llmtest", "initial_cash": 100_000.0},
        "data": [{"path": str(data), "symbol": "SPX"}],
        "strategies": list(strategies),
        "journal": {"dir": str(journal_dir)},
        "plugins": {"entry_points": False},
        **(extra or {}),
    }
    result = run_session(parse_config(raw, data.parent))
    assert result.journal_path is not None
    return result, list(read_journal(result.journal_path))


def trader(sid: str = "llm", **params: Any) -> dict[str, Any]:
    """A strategy entry for the LLM trader."""
    return {"name": "llm_trader", "id": sid, "params": params}


@pytest.fixture(scope="session")
def local_model() -> Any:
    """The packaged GGUF model, loaded once for the whole test session."""
    from papertape.plugins.llm.providers.local import load_llama, model_path

    llm, _ = load_llama(model_path(""), 4096, 0)
    return llm


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server with the packaged GGUF, on loopback.

    Yields the base URL (``http://127.0.0.1:<port>/v1``); the process is stopped afterwards.
    """
    from papertape.plugins.llm.providers.local import model_path

    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model_path("")),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
        "--model_alias", "gemma3-270m",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 240.0
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text()[-800:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2.0) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-800:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
