"""A small file-based model registry: named models, numbered versions, metadata, file hashes.

Layout under a registry root (``models/`` by default, git-ignored)::

    models/
      hmm-spx/                 a model name (what ``--out`` names)
        v1/
          metadata.json        written last: a version without it is incomplete and ignored
          hmm.npz              weights (whatever the model kind writes)
        v2/ ...

Each training run adds the next version; nothing is overwritten. ``metadata.json`` records the
model kind, family, feature list, data range and hash, hyperparameters, metrics, papertape
version, creation time and the SHA-256 of every weight file, which is checked on load.
A path given to :func:`resolve_version` may be a version folder or a model folder (its
highest complete version is used).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papertape.engine.errors import ModelError

__all__ = [
    "FORMAT",
    "METADATA_FILE",
    "ModelEntry",
    "file_sha256",
    "list_models",
    "read_metadata",
    "resolve_version",
    "utc_now",
    "write_version",
]

METADATA_FILE = "metadata.json"
FORMAT = 1
_VERSION = re.compile(r"^v(\d+)$")


def utc_now() -> str:
    """Current UTC time as ISO 8601 (seconds)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _versions(model_dir: Path) -> list[tuple[int, Path]]:
    out = []
    if model_dir.is_dir():
        for child in model_dir.iterdir():
            m = _VERSION.match(child.name)
            if m and (child / METADATA_FILE).is_file():
                out.append((int(m.group(1)), child))
    return sorted(out)


def write_version(
    model_dir: str | Path, write: Callable[[Path], Iterable[str]], metadata: dict[str, Any]
) -> Path:
    """Create the next version of ``model_dir`` and fill it.

    Args:
        model_dir: The model's folder (created if missing).
        write: Writes the weight files into the version folder; returns their names.
        metadata: JSON-ready facts; ``format``, ``name``, ``version`` and ``files`` are added.

    Returns:
        The new version folder.

    Raises:
        ModelError: If the folder cannot be created or written.
    """
    root = Path(model_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        taken = [int(m.group(1)) for c in root.iterdir() if (m := _VERSION.match(c.name))]
        version = max(taken, default=0) + 1
        while True:
            target = root / f"v{version}"
            try:
                target.mkdir()
                break
            except FileExistsError:  # another training run took this number meanwhile
                version += 1
        files = sorted(set(write(target)))
        meta = {
            "format": FORMAT,
            "name": root.name,
            "version": version,
            **metadata,
            "files": {f: file_sha256(target / f) for f in files},
        }
        tmp = target / f".{METADATA_FILE}.tmp"
        tmp.write_text(
            json.dumps(meta, indent=2, sort_keys=True, allow_nan=False), encoding="utf-8"
        )
        os.replace(tmp, target / METADATA_FILE)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot write model version under {root}: {exc}") from exc
    return target


def resolve_version(path: str | Path) -> Path:
    """The version folder a path names (a version folder, or a model's latest version).

    Raises:
        ModelError: If no complete model version is found there.
    """
    p = Path(path).expanduser()
    if (p / METADATA_FILE).is_file():
        return p
    versions = _versions(p)
    if versions:
        return versions[-1][1]
    raise ModelError(f"no trained model at {p} (expected {METADATA_FILE} or v<N>/ folders)")


def read_metadata(version_dir: str | Path, verify: bool = True) -> dict[str, Any]:
    """Read a version's metadata; with ``verify``, check every file's SHA-256.

    Raises:
        ModelError: If the metadata is unreadable, of an unknown format, or a file differs.
    """
    d = Path(version_dir)
    try:
        meta: dict[str, Any] = json.loads((d / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {d / METADATA_FILE}: {exc}") from exc
    if meta.get("format") != FORMAT:
        raise ModelError(f"{d}: model format {meta.get('format')!r}, this papertape reads {FORMAT}")
    if verify:
        for name, digest in meta.get("files", {}).items():
            f = d / name
            if not f.is_file():
                raise ModelError(f"{d}: weight file {name} is missing")
            if file_sha256(f) != digest:
                raise ModelError(f"{d}: weight file {name} does not match its recorded SHA-256")
    return meta


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One complete model version found in a registry.

    Attributes:
        name: The model folder's name.
        version: Version number.
        family: Model family (``regime``).
        kind: Model kind within the family (``hmm``, ``vae``, ...).
        path: The version folder.
        created_at: ISO 8601 creation time (UTC).
        data_first: First training timestamp (ISO 8601).
        data_last: Last training timestamp (ISO 8601).
        metadata: The full metadata.
    """

    name: str
    version: int
    family: str
    kind: str
    path: Path
    created_at: str
    data_first: str
    data_last: str
    metadata: dict[str, Any]


def list_models(root: str | Path = "models") -> list[ModelEntry]:
    """Every complete model version under ``root`` (model folders up to two levels deep)."""
    base = Path(root)
    if not base.is_dir():
        return []
    candidates = [base, *sorted(p for p in base.iterdir() if p.is_dir())]
    candidates += [p for c in candidates[1:] for p in sorted(c.iterdir()) if p.is_dir()]
    out: list[ModelEntry] = []
    for model_dir in candidates:
        for version, vdir in _versions(model_dir):
            try:
                meta = read_metadata(vdir, verify=False)
            except ModelError:
                continue
            data = meta.get("data", {})
            out.append(
                ModelEntry(
                    model_dir.name if model_dir != base else base.name,
                    version,
                    str(meta.get("family", "?")),
                    str(meta.get("kind", "?")),
                    vdir,
                    str(meta.get("created_at", "")),
                    str(data.get("first", "")),
                    str(data.get("last", "")),
                    meta,
                )
            )
    return sorted(out, key=lambda e: (str(e.path.parent), e.version))
