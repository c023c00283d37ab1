"""The crash-safe journal store of one run: ``journals/<run-id>/``.

::

    events.jsonl    append-only event log, one line per event (the record; see jsonl.py)
    index.sqlite    SQLite index of the log (WAL; derived, rebuilt from the log when behind)
    config.json     the resolved config, for ``papertape run --resume``
    manifest.json   wall-clock facts: created, host, pid, status, resumes
    .lock           held (flock) by the process writing the folder

:class:`JournalStore` is a pluggy plugin. ``papertape_events`` (the engine calls it once after
every tick that emitted events, before the next tick, with that tick's events) encodes them and
writes the tick's lines with one ``write`` system call and, with ``durability="fsync"``, one
``fdatasync``: a group commit per tick. What that guarantees:

* ``process``: once a tick's commit returns, its events are in the
  kernel; killing the process (``kill -9``, a crash, an exception) loses none of them. A power
  loss or kernel crash may lose what the kernel had not yet written back (typically the last
  few seconds).
* ``fsync`` (default for live sessions): the commit returns after the disk confirmed the data,
  so a power loss loses nothing the engine acted on (given a disk that honours flushes).
* ``batch`` (default for replays): whole ticks are held and written together once they reach
  ``BATCH_BYTES`` or ``BATCH_SECONDS`` after the first (checked at each tick), and by
  :meth:`JournalStore.commit`/``close``. A killed process loses at most the held ticks, which
  a resume re-executes (a replay is deterministic); it saves the ``write`` per tick.

Either way the log is a prefix of the run's event stream: at worst its last line is torn, and
readers skip it. A store opened with ``resume=True`` checks a re-run against every intact line
of the log (see :mod:`engine.journal.check`) while writing the re-run to a new file beside it;
only once the re-run has matched the whole log does that file replace it (atomically, after an
fsync), and the manifest record the resume. A re-run that differs, or stops early, leaves the
log and the manifest exactly as they were.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from papertape.engine.errors import JournalError
from papertape.engine.hookspecs import hookimpl
from papertape.engine.journal.check import LogCheck
from papertape.engine.journal.index_feed import Facts, IndexFeed, facts_of
from papertape.engine.journal.jsonl import LOG_NAME, encode_event, encode_tick
from papertape.engine.journal.lock import RunLock
from papertape.engine.journal.manifest import (
    RunManifest,
    fsync_dir,
    now_iso,
    read_manifest,
    write_config,
    write_manifest,
)
from papertape.engine.journal.sqlite import INDEX_NAME, JournalIndex

if TYPE_CHECKING:
    from papertape.engine.events import Event

__all__ = ["Durability", "JournalMirror", "JournalStore"]

log = logging.getLogger("papertape.journal")

Durability = Literal["batch", "process", "fsync"]
BATCH_BYTES = 1 << 16  # "batch": ticks held in memory up to this many bytes ...
BATCH_SECONDS = 0.2  # ... or this long after the first of them
MAX_PENDING = 65_536  # commit anyway when a caller never ends its ticks


class JournalMirror(Protocol):
    """A copy of the log elsewhere (PostgreSQL); fed after each commit, never blocking."""

    def offer(self, first_seq: int, first_offset: int, lines: Sequence[bytes]) -> None:
        """Take committed lines ``first_seq...``, which start at byte ``first_offset``."""

    def backfill(self, events: int, first_seq: int = 0, first_offset: int = 0) -> None:
        """Ship log lines ``first_seq`` up to ``events`` from the file (after a resume)."""

    def close(self) -> int:
        """Ship what is left (bounded wait); return events not shipped."""


class JournalStore:
    """Writes one run's events durably to ``run_dir`` (a pluggy plugin).

    Args:
        run_dir: The run folder (``journals/<run-id>``); created when missing.
        durability: ``"process"`` or ``"fsync"`` (see the module docs).
        index: Keep the SQLite index current while the run goes on (without it, the
            first reader builds the index from the log).
        resume: Open an existing run: re-run events are checked against the log, then
            appended after it. Without it an existing log in ``run_dir`` is replaced.
        config: The canonical config, written to ``config.json`` (new runs).
        base_dir: Folder relative data paths of the config are resolved against.
        version: papertape version, for the manifest.
    """

    def __init__(
        self,
        run_dir: str | Path,
        *,
        durability: Durability = "process",
        index: bool = True,
        resume: bool = False,
        config: Mapping[str, Any] | None = None,
        base_dir: str = ".",
        version: str = "",
    ) -> None:
        if durability not in ("batch", "process", "fsync"):
            raise JournalError(
                f"unknown durability {durability!r}: use 'batch', 'process' or 'fsync'"
            )
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOG_NAME
        self.durability = durability
        self._fsync = durability == "fsync"
        # "batch": whole ticks' bytes held back (with their index facts) and written together.
        self._batching = durability == "batch"
        self._held: list[bytes] = []
        self._held_facts: list[Facts] = []
        self._held_bytes = 0
        self._held_events = 0
        self._held_since = 0.0
        self._seq = 0
        self._lines: list[bytes] = []
        # Index facts of pending lines, (time, kind, strategy, symbol): plain values, so the
        # garbage collector has little to walk (holding the events themselves costs more).
        self._facts: list[tuple[int, str, str | None, str | None]] = []
        self._size = 0
        self._mirrors: list[JournalMirror] = []
        self._index: IndexFeed | None = None
        self._check: LogCheck | None = None
        self._resume_log = self.run_dir / f".{LOG_NAME}.resume"
        self._want_index = index
        self._finished = False
        self._failed = False
        self._closed = False
        self.verified_events = 0
        self.rewritten_events = 0
        self.torn_bytes = 0
        self.damaged_lines: tuple[int, ...] = ()
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot create journal folder {self.run_dir}: {exc}") from exc
        self._lock = RunLock(self.run_dir)
        try:
            if resume:
                self._open_resume()
            else:
                self._open_new(config, base_dir, version)
            if index and not resume:  # a resumed run's index is opened once it matched
                self._index = self._open_index()
        except BaseException:
            self._lock.release()
            raise

    # ---------------------------------------------------------------------------------------
    # opening
    # ---------------------------------------------------------------------------------------

    def _open_log(self, flags: int) -> int:
        try:
            return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | flags, 0o644)
        except OSError as exc:
            raise JournalError(f"cannot open journal {self.path}: {exc}") from exc

    def _open_new(self, config: Mapping[str, Any] | None, base_dir: str, version: str) -> None:
        for name in (INDEX_NAME, f"{INDEX_NAME}-wal", f"{INDEX_NAME}-shm"):
            (self.run_dir / name).unlink(missing_ok=True)
        if config is not None:
            write_config(self.run_dir, dict(config))
        self.manifest = RunManifest.new(
            self.run_dir.name,
            str(Path(base_dir).resolve()),
            version,
            self.durability,
            index_live=self._want_index,
        )
        write_manifest(self.run_dir, self.manifest)
        self._fd = self._open_log(os.O_CREAT | os.O_TRUNC)
        fsync_dir(self.run_dir)

    def _open_resume(self) -> None:
        if not self.path.is_file():
            raise JournalError(f"{self.run_dir} has no {LOG_NAME} to resume")
        self.manifest = read_manifest(self.run_dir)
        self._check = LogCheck(self.path, self.run_dir.name)
        self.torn_bytes = self._check.torn_bytes
        try:
            self._fd = os.open(
                self._resume_log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644
            )
        except OSError as exc:
            self._check.close()
            raise JournalError(f"cannot write {self._resume_log}: {exc}") from exc

    def _adopt_rerun(self) -> None:
        """The re-run matched the whole log: its file becomes the log, the manifest says so."""
        check = self._check
        assert check is not None
        self._check = None
        check.close()
        self.verified_events = check.verified
        self.rewritten_events = check.rewritten
        self.damaged_lines = tuple(check.damaged)
        try:
            os.fdatasync(self._fd)  # the new log is on disk before it replaces the old one
            os.replace(self._resume_log, self.path)
        except OSError as exc:
            self._failed = True
            raise JournalError(f"cannot replace {self.path} after resuming: {exc}") from exc
        fsync_dir(self.run_dir)
        if check.damaged_count:
            log.warning(
                "journal %s: %d damaged line(s) skipped (line %s); their events were rewritten "
                "by the re-run",
                self.path,
                check.damaged_count,
                ", ".join(map(str, check.damaged)),
            )
        at = now_iso()
        resume = {"at": at, "pid": os.getpid(), **check.report()}
        self.manifest = replace(
            self.manifest,
            status="running",
            pid=os.getpid(),
            updated_at=at,
            durability=self.durability,
            index_live=self._want_index,
            resumes=(*self.manifest.resumes, resume),
        )
        write_manifest(self.run_dir, self.manifest)
        if check.damaged_count:  # offsets after a damaged line moved: index afresh
            JournalIndex.rebuild(self.run_dir / INDEX_NAME).close()
        if self._want_index:
            self._index = self._open_index()
        for m in self._mirrors:
            m.backfill(self.events_written)
        log.info(
            "journal %s: %d events verified; appending from event %d",
            self.path,
            check.verified,
            self.events_written,
        )

    def _abandon_rerun(self) -> None:
        """Drop the re-run's file; the log stays exactly as it was."""
        if self._check is not None:
            self._check.close()
        with contextlib.suppress(OSError):
            self._resume_log.unlink()

    def _open_index(self) -> IndexFeed:
        return IndexFeed(self.run_dir, self.path, self._size)

    def add_mirror(self, mirror: JournalMirror) -> None:
        """Feed ``mirror`` every committed line from now on."""
        self._mirrors.append(mirror)

    # ---------------------------------------------------------------------------------------
    # hooks
    # ---------------------------------------------------------------------------------------

    @hookimpl
    def papertape_events(self, events: Sequence[Event]) -> None:
        """Write one tick's events and commit them (one group commit per tick)."""
        if self._closed or self._check is not None:  # rare paths: event by event
            add = self.add
            for event in events:
                add(event)
            self.commit()
            return
        seq = self._seq
        data = encode_tick(events, seq)
        self._seq = seq + len(events)
        if self._lines:  # events added one by one before this tick: one commit for all
            lines = data.split(b"\n")
            lines.pop()
            self._lines += lines
            if self._index is not None:
                self._facts += facts_of(events)
            self.commit()
            return
        if self._batching:
            if not self._held:
                self._held_since = time.monotonic()
            self._held.append(data)
            self._held_bytes += len(data)
            self._held_events += len(events)
            if self._index is not None:
                self._held_facts += facts_of(events)
            if (
                self._held_bytes >= BATCH_BYTES
                or time.monotonic() - self._held_since >= BATCH_SECONDS
            ):
                self._release()
            return
        self._land(data, facts_of(events) if self._index is not None else [])

    def add(self, event: Event) -> None:
        """Encode one event into the current batch (committed by :meth:`commit`)."""
        if self._closed:
            raise JournalError(f"journal {self.path} is closed; event {event.kind} not written")
        seq = self._seq
        self._seq = seq + 1
        line = encode_event(event, seq)
        if self._check is not None:
            try:
                self._check.check(seq, line)
            except JournalError:
                self._failed = True
                raise
        lines = self._lines
        lines.append(line)
        if self._index is not None:
            self._facts.append(
                (
                    event.time,
                    event.kind,
                    getattr(event, "strategy", None),
                    getattr(event, "symbol", None),
                )
            )
        if len(lines) >= MAX_PENDING:
            self.commit()

    @hookimpl
    def papertape_run_finished(self, run: Mapping[str, Any], results: Mapping[str, Any]) -> None:
        """Commit and close at the end of the run."""
        self.close()

    # ---------------------------------------------------------------------------------------
    # committing
    # ---------------------------------------------------------------------------------------

    def _release(self) -> None:
        """Write the ticks held back by ``batch`` durability, with one system call."""
        data = b"".join(self._held)
        facts = self._held_facts
        self._held = []
        self._held_facts = []
        self._held_bytes = self._held_events = 0
        self._land(data, facts)

    def _land(self, data: bytes, facts: list[Facts]) -> None:
        """Write whole lines ``data``, then account for them (mirrors and index when kept)."""
        self._write(data)
        if self._index is None and not self._mirrors:
            self._size += len(data)
            if data.startswith(_FINISHED, data.rfind(b"\n", 0, -1) + 1):
                self._finished = True
            return
        lines = data.split(b"\n")
        lines.pop()
        self._written(data, lines, facts)

    def commit(self) -> None:
        """Write the pending lines with one system call (then fdatasync with ``fsync``).

        Ticks held back by ``batch`` durability are written first (they came first).
        """
        if self._held:
            self._release()
        lines = self._lines
        if not lines:
            if self._check is not None and self._check.done and not self._failed:
                self._adopt_rerun()
            return
        facts = self._facts
        self._lines = []
        self._facts = []
        lines.append(b"")
        data = b"\n".join(lines)
        lines.pop()
        self._write(data)
        self._written(data, lines, facts)

    def _written(self, data: bytes, lines: list[bytes], facts: list[Facts]) -> None:
        """Account for ``lines`` (``data``), just written: finished?, mirrors, index."""
        if lines[-1].startswith(_FINISHED):
            self._finished = True
        first_seq = self._seq - len(self._lines) - len(lines)
        offset = self._size
        self._size += len(data)
        if self._check is not None:  # still checking: nothing is shipped or indexed yet
            if self._check.done:
                self._adopt_rerun()
            return
        for m in self._mirrors:
            m.offer(first_seq, offset, lines)
        if self._index is not None:
            self._index.add(first_seq, offset, facts, lines)

    def _write(self, data: bytes) -> None:
        try:
            n = os.write(self._fd, data)
            if n < len(data):  # short write (signal, nearly full disk): write the rest
                view = memoryview(data)[n:]
                while view:
                    view = view[os.write(self._fd, view) :]
            if self._fsync:
                os.fdatasync(self._fd)
        except OSError as exc:
            self._failed = True
            raise JournalError(f"cannot write journal {self.path}: {exc}") from exc

    @property
    def events_written(self) -> int:
        """Events in the log so far (journaled before this process plus appended)."""
        return self._seq - len(self._lines) - self._held_events

    # ---------------------------------------------------------------------------------------
    # closing
    # ---------------------------------------------------------------------------------------

    def close(self) -> None:
        """Commit, finish the index, drain the mirrors, record the status (idempotent).

        Raises:
            JournalError: A resumed run ended before reaching the end of its log.
        """
        if self._closed:
            return
        unchecked = None
        try:
            if not self._failed:
                self.commit()
            if self._check is not None and not self._failed and self._finished:
                unchecked = self._check.unmatched()
            if self._index is not None and not self._failed:
                self._index.finish(self._finished)
        finally:
            self._closed = True
            checking = self._check is not None
            if checking:
                self._abandon_rerun()
            if self._index is not None:
                self._index.close()
            with contextlib.suppress(OSError):
                os.close(self._fd)
            for m in self._mirrors:
                left = m.close()
                if left and not checking:
                    log.warning(
                        "%d events of %s are not in the mirror yet; they are in %s: ship them "
                        "with `papertape journal push %s`",
                        left,
                        self.run_dir.name,
                        self.path,
                        self.run_dir,
                    )
            if not checking:  # a resume that did not match changes nothing, manifest included
                status = "finished" if self._finished else "stopped"
                with contextlib.suppress(JournalError):
                    self.manifest = replace(self.manifest, status=status, updated_at=now_iso())
                    write_manifest(self.run_dir, self.manifest)
            self._lock.release()
        if unchecked is not None:
            raise JournalError(
                f"cannot resume {self.run_dir.name}: the re-run ended after {self._seq} events "
                f"but the journal holds more (event {unchecked}); the config, the data or the code "
                "changed. The journal was left as it was."
            )


_FINISHED = b'{"kind":"run_finished",'
