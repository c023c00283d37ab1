"""A real PostgreSQL server for the journal tests, started once per session on 127.0.0.1.

The server binaries of the machine are used (``pg_ctl``/``initdb`` on PATH, or the newest
``/usr/lib/postgresql/*/bin``); tests that need the server are skipped, with that reason, only
where no such binary exists. PostgreSQL refuses to run as root: under root the cluster is
created and run as the ``postgres`` system user (``nobody`` when that user does not exist),
in a temporary folder that user owns. Durability settings are relaxed (``fsync=off``): the tests
check the application's behaviour, not the server's crash safety.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.journal.postgres.connection import connect


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(cand, "pg_ctl").exists() and Path(cand, "initdb").exists():
            return Path(cand)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One throwaway cluster: start, stop, a DSN per database."""

    def __init__(self, bindir: Path, root: Path, port: int, user: pwd.struct_passwd | None):
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = port
        self.user = user

    def _demote(self) -> Callable[[], None] | None:
        user = self.user
        if user is None:
            return None

        def demote() -> None:
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)

        return demote

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        if self.user is not None:
            env["HOME"] = str(self.root)
            env["USER"] = env["LOGNAME"] = self.user.pw_name
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            preexec_fn=self._demote(),
            env=env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def init(self) -> None:
        res = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        if res.returncode != 0:
            raise RuntimeError(f"initdb failed: {res.stdout}\n{res.stderr}")

    def start(self) -> None:
        opts = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        res = self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            opts,
            "start",
        )
        if res.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"pg_ctl start failed: {res.stdout}\n{res.stderr}\n{log}")

    def stop(self, mode: str = "fast") -> None:
        res = self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        if res.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {res.stdout}\n{res.stderr}")

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status").returncode == 0

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"

        async def create() -> None:
            conn = await connect(self.dsn())
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        return self.dsn(name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server on 127.0.0.1 for the whole session (skipped without binaries)."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (pg_ctl, initdb) on this machine")
    user = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                user = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        if user is None:
            raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run as")
    root = Path(tempfile.mkdtemp(prefix="papertape-pg-"))
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    server = PgServer(bindir, root, _free_port(), user)
    server.init()
    server.start()
    try:
        yield server
    finally:
        if server.running():
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_dsn(pg_server: PgServer) -> str:
    """A fresh, empty database on the session server."""
    if not pg_server.running():
        pg_server.start()
    return pg_server.create_database()


# ------------------------------------------------------------------------------------------
# Runs on synthetic data: a data file, a drop-in strategy, a config.
# ------------------------------------------------------------------------------------------

STRATEGY_SOURCE = '''
"""Test strategy: an SMA cross with brackets; sleeps PAPERTAPE_TEST_SLEEP seconds per bar."""

from __future__ import annotations

import os
import time
from typing import Any, ClassVar

from papertape.engine.execution.orders import Signal
from papertape.engine.strategy import Strategy


class SlowCross(Strategy):
    name: ClassVar[str] = "slow_cross"
    defaults: ClassVar[dict[str, Any]] = {"fast": 3, "slow": 8}

    def on_start(self, ctx: Any) -> None:
        self.closes: list[float] = []
        self.above: bool | None = None
        self.pause = float(os.environ.get("PAPERTAPE_TEST_SLEEP", "0"))

    def on_bar(self, snap: Any, portfolio: Any) -> Any:
        if self.pause:
            time.sleep(self.pause)
        self.closes.append(snap.price)
        if len(self.closes) < self.p.slow:
            return None
        fast = sum(self.closes[-self.p.fast:]) / self.p.fast
        slow = sum(self.closes[-self.p.slow:]) / self.p.slow
        above = fast > slow
        before, self.above = self.above, above
        if before is None or above == before:
            return None
        if above:
            px = snap.price
            return Signal.long("up", stop_loss=px * 0.97, take_profit=px * 1.05)
        return Signal.flat("down")
'''


def write_bars(path: Path, n: int, seed: int = 3) -> Path:
    """``n`` daily OHLCV bars of a seeded random walk, as CSV."""
    import numpy as np

    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    opn = np.concatenate([[100.0], close[:-1]]) * (1 + rng.normal(0.0, 0.003, n))
    high = np.maximum(opn, close) * (1 + np.abs(rng.normal(0.0, 0.01, n)))
    low = np.minimum(opn, close) * (1 - np.abs(rng.normal(0.0, 0.01, n)))
    t0 = 946_684_800  # 2000-01-01
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(n):
        lines.append(
            f"{t0 + i * 86_400},{opn[i]:.6f},{high[i]:.6f},{low[i]:.6f},{close[i]:.6f},{1000 + i}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


class RunFiles:
    """A config with its data file and strategy folder under one temporary folder."""

    def __init__(self, root: Path, bars: int, extra: str = "", journal: str = "") -> None:
        self.root = root
        self.journals = root / "journals"
        self.data = write_bars(root / "walk.csv", bars)
        strategies = root / "strats"
        strategies.mkdir(exist_ok=True)
        (strategies / "slow_cross.py").write_text(STRATEGY_SOURCE)
        self.config = root / "run.toml"
        self.config.write_text(f'''
[run]
name = "walk"
initial_cash = 10000.0

[[data]]
path = "{self.data}"
symbol = "WALK"

[execution]
taker_bps = 5.0
maker_bps = 1.0

[[strategies]]
name = "slow_cross"
id = "a"
sizer = {{ name = "fraction", fraction = 0.5 }}
shields = [{{ name = "max_drawdown", reduce_only_at = 0.2, halt_at = 0.5, release_at = 0.1 }}]

[[strategies]]
name = "sma_cross"
id = "b"
params = {{ fast = 4, slow = 12 }}
sizer = {{ name = "fraction", fraction = 0.3 }}

[journal]
dir = "{self.journals}"
{journal}

[plugins]
strategy_dirs = ["{strategies}"]
entry_points = false
{extra}
''')

    def load(self) -> Any:
        from papertape.engine.config import load_config

        return load_config(self.config)

    def run_dir(self) -> Path:
        from papertape.engine.session import identified, load_series, window_of

        config = self.load()
        return self.journals / identified(config, window_of(config, load_series(config))[0]).run_id

    def log(self) -> Path:
        return self.run_dir() / "events.jsonl"


@pytest.fixture
def run_files(tmp_path: Path) -> Callable[..., RunFiles]:
    """Factory: ``run_files(bars=300, extra="...toml...", journal="index = true")``."""

    def make(bars: int = 300, extra: str = "", name: str = "run", journal: str = "") -> RunFiles:
        root = tmp_path / name
        root.mkdir()
        return RunFiles(root, bars, extra, journal)

    return make
