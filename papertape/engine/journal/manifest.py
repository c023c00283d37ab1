"""The files beside a run's event log that are not events.

* ``config.json``: the resolved run config (canonical JSON, no wall clock), what
  ``papertape run --resume`` rebuilds the run from;
* ``manifest.json``: wall-clock and machine facts (created, updated, host, pid, working
  folder, the config's folder, durability, status, each resume). They live here and never in
  the log, so logs stay byte-identical across runs.

Both are written atomically (temporary file, fsync, rename, fsync of the folder): a crash leaves
either the old or the new file, never a mix.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from papertape.engine.errors import JournalError

__all__ = [
    "CONFIG_NAME",
    "MANIFEST_NAME",
    "RunManifest",
    "fsync_dir",
    "now_iso",
    "read_config",
    "read_manifest",
    "write_atomic",
    "write_config",
    "write_manifest",
]

CONFIG_NAME = "config.json"
MANIFEST_NAME = "manifest.json"


def now_iso() -> str:
    """Wall-clock time, ISO 8601 UTC (manifest only; never in events)."""
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (created, renamed files) durable."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on folders; nothing more can be done
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise JournalError(f"cannot write {path}: {exc}") from exc
    fsync_dir(path.parent)


@dataclass(frozen=True, slots=True)
class RunManifest:
    """Facts about a run folder that are not part of the deterministic record."""

    run_id: str
    created_at: str
    updated_at: str
    status: str  # running | finished | stopped (closed before run_finished)
    host: str
    pid: int
    cwd: str
    base_dir: str
    version: str
    durability: str
    resumes: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    # The writer keeps index.sqlite current while it runs (else its first reader builds it).
    index_live: bool = True

    @classmethod
    def new(
        cls, run_id: str, base_dir: str, version: str, durability: str, index_live: bool = True
    ) -> RunManifest:
        """A manifest for a run starting now in this process."""
        now = now_iso()
        return cls(
            run_id,
            now,
            now,
            "running",
            socket.gethostname(),
            os.getpid(),
            os.getcwd(),
            base_dir,
            version,
            durability,
            index_live=index_live,
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        out = asdict(self)
        out["resumes"] = list(self.resumes)
        return out


def write_manifest(run_dir: Path, manifest: RunManifest) -> None:
    """Write ``manifest.json`` atomically."""
    data = json.dumps(manifest.as_dict(), indent=2, sort_keys=True).encode() + b"\n"
    write_atomic(run_dir / MANIFEST_NAME, data)


def read_manifest(run_dir: Path) -> RunManifest:
    """Read ``manifest.json``.

    Raises:
        JournalError: It is missing or malformed.
    """
    p = run_dir / MANIFEST_NAME
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
        raw["resumes"] = tuple(raw.get("resumes", ()))
        return RunManifest(**raw)
    except FileNotFoundError:
        raise JournalError(f"{run_dir} is not a run folder: no {MANIFEST_NAME}") from None
    except (OSError, ValueError, TypeError) as exc:
        raise JournalError(f"cannot read {p}: {exc}") from exc


def write_config(run_dir: Path, canonical: dict[str, Any]) -> None:
    """Write ``config.json`` (the resolved config) atomically."""
    data = json.dumps(canonical, indent=2, sort_keys=True).encode() + b"\n"
    write_atomic(run_dir / CONFIG_NAME, data)


def read_config(run_dir: Path) -> dict[str, Any]:
    """Read ``config.json`` as plain data.

    Raises:
        JournalError: It is missing or malformed.
    """
    p = run_dir / CONFIG_NAME
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JournalError(f"{run_dir} has no {CONFIG_NAME}: it cannot be resumed") from None
    except (OSError, ValueError) as exc:
        raise JournalError(f"cannot read {p}: {exc}") from exc
    if not isinstance(data, dict):
        raise JournalError(f"{p}: not a config object")
    return data
