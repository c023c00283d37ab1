"""The exact-replay cache: every model call stored under a content hash of what was asked.

The key is the SHA-256 of the canonical JSON of (provider, model, sampling parameters, output
schema, system prompt, user prompt). Anything that could change the answer is in it; nothing
that cannot (host, timeout, wall time) is. Each entry is one small JSON file,
``<dir>/<key[:2]>/<key>.json``, written to a temporary name and renamed, so a killed run never
leaves a torn entry and concurrent traders (or processes) never see half a file.

An entry records the whole outcome of the call, failures included (timeout, provider error),
with the latency, tokens and cost measured when it was made. Replaying from the cache therefore
reproduces the decision record byte for byte. A recorded outcome is served as recorded, failures
included, in ``readwrite`` (the default) and ``replay`` modes: a re-run, a ``--resume`` and a
journal replay must see exactly what the first run saw, and one retried timeout would change
every later prompt. Only the opt-in ``retry`` mode asks the model again for a cached failure
(and overwrites it), at the price of a journal that may differ from the first run's.

Processes sharing a folder (sweep and arena workers) also share a call in flight: the one
that asks the model first holds a claim file, ``<key>.claim`` beside the entry, created with
``O_CREAT | O_EXCL`` (:meth:`ResponseCache.claim`); the others wait for the entry
(:func:`plugins.llm.calls.join_flight`). A claim whose process has died (same host) or that is
older than :data:`CLAIM_STALE_S` is stale and taken over.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papertape.engine.errors import JournalError

if TYPE_CHECKING:
    from papertape.plugins.llm.providers.base import LlmRequest

__all__ = ["CACHE_MODES", "CLAIM_STALE_S", "CacheEntry", "ResponseCache", "request_key", "serves"]

CACHE_MODES = ("readwrite", "replay", "retry", "off")
CLAIM_STALE_S = 900.0  # a claim this old is abandoned (longer than any trader's timeout)


def request_key(identity: dict[str, Any], request: LlmRequest) -> str:
    """The content hash of one request (hex SHA-256)."""
    blob = {
        **identity,
        "params": request.params(),
        "schema": request.schema,
        "system": request.system,
        "prompt": request.prompt,
    }
    text = json.dumps(blob, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """The recorded outcome of one model call.

    Attributes:
        text: Raw structured output ("" when the call failed).
        tokens_in: Input tokens of the call.
        tokens_out: Output tokens of the call.
        cost: USD of the call.
        latency_ms: Wall time of the call when it was made.
        stop_reason: The backend's stop reason.
        refusal: The backend reported a refusal.
        truncated: The output hit the token limit.
        error_code: Empty for a completed call, else ``timeout`` or ``provider_error``.
        error: The error message of a failed call.
    """

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    latency_ms: float = 0.0
    stop_reason: str = ""
    refusal: bool = False
    truncated: bool = False
    error_code: str = ""
    error: str = ""

    @property
    def failed(self) -> bool:
        """True when the call itself failed (no answer to validate)."""
        return bool(self.error_code)


_FIELDS = frozenset(CacheEntry.__dataclass_fields__)


def serves(entry: CacheEntry | None, mode: str) -> bool:
    """Whether a cached ``entry`` answers the call in cache ``mode`` (no model is asked).

    Every recorded outcome is served, failures included, except a failure in ``retry`` mode.
    """
    if entry is None or mode == "off":
        return False
    return not (entry.failed and mode == "retry")


class ResponseCache:
    """Content-addressed store of call outcomes; ``directory=None`` keeps them in memory only.

    Args:
        directory: Folder of the entries (created on first write).
    """

    def __init__(self, directory: str | Path | None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self._memory: dict[str, CacheEntry] = {}

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, *, fresh: bool = False) -> CacheEntry | None:
        """The entry stored under ``key``, or None; ``fresh`` reads the folder again."""
        if self.directory is None or (not fresh and key in self._memory):
            return self._memory.get(key)
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise JournalError(f"unreadable LLM cache entry {path}: {exc}") from exc
        entry = CacheEntry(**{k: v for k, v in data.get("outcome", {}).items() if k in _FIELDS})
        self._memory[key] = entry
        return entry

    def put(self, key: str, entry: CacheEntry, context: dict[str, Any] | None = None) -> None:
        """Store ``entry`` under ``key``; ``context`` (the request itself) is kept beside it."""
        self._memory[key] = entry
        if self.directory is None:
            return
        path = self._path(key)
        record = {"key": key, "outcome": asdict(entry), "request": context or {}}
        text = json.dumps(record, sort_keys=True, indent=1, ensure_ascii=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except OSError as exc:
            raise JournalError(f"cannot write LLM cache entry {path}: {exc}") from exc

    def _claim_path(self, key: str) -> Path:
        return self._path(key).with_suffix(".claim")

    def claim(self, key: str) -> bool:
        """Claim the model call for ``key`` across processes; False if another holds it.

        A stale claim (see :meth:`claimed`) is removed and claimed anew. Without a folder
        there is nobody to share with: always True.

        Raises:
            JournalError: The claim file cannot be written.
        """
        if self.directory is None:
            return True
        path = self._claim_path(key)
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}
        for _ in range(2):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self.claimed(key):
                    return False
                path.unlink(missing_ok=True)  # its process died or gave up long ago
                continue
            except OSError as exc:
                raise JournalError(f"cannot write LLM cache claim {path}: {exc}") from exc
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(owner, fh)
            return True
        return False

    def claimed(self, key: str) -> bool:
        """Whether a live claim on ``key`` exists (its process is alive and it is recent)."""
        if self.directory is None:
            return False
        path = self._claim_path(key)
        try:
            age = time.time() - path.stat().st_mtime
            text = path.read_text(encoding="utf-8")
        except OSError:
            return False  # no claim (or it went away meanwhile)
        if age > CLAIM_STALE_S:
            return False
        try:
            owner = json.loads(text)
        except ValueError:
            return True  # being written right now
        if owner.get("host") != socket.gethostname():
            return True  # another node: only the age can tell
        return _alive(int(owner.get("pid", 0)))

    def release(self, key: str) -> None:
        """Drop this process's claim on ``key`` (after its entry is stored, or on failure)."""
        if self.directory is not None:
            self._claim_path(key).unlink(missing_ok=True)

    def __len__(self) -> int:
        if self.directory is None or not self.directory.is_dir():
            return len(self._memory)
        return sum(1 for _ in self.directory.glob("*/*.json"))


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True
