"""Connecting to PostgreSQL: DSNs from the environment, masking, asyncpg at the boundary.

The DSN is a secret (it may carry a password): configs name the environment variable that
holds it (``[postgres] dsn_env``), and every message shows it through :func:`mask_dsn`.
asyncpg is imported here only, lazily, and its errors are turned into papertape's own
(:func:`translate`), so nothing above this package sees an asyncpg exception.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from papertape.engine.errors import ConfigError, JournalError, PapertapeError

if TYPE_CHECKING:
    import asyncpg

__all__ = [
    "DEFAULT_DSN_ENV",
    "check_login",
    "connect",
    "dsn_from_env",
    "is_login_refused",
    "is_transient",
    "login_refused_error",
    "mask_dsn",
    "require_asyncpg",
    "run_sync",
    "translate",
]

DEFAULT_DSN_ENV = "PAPERTAPE_DSN"
T = TypeVar("T")

_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&]*)", re.IGNORECASE)


def mask_dsn(dsn: str) -> str:
    """The DSN with any password replaced by ``***``.

    A URL's user information ends at the *last* ``@`` (a raw ``@``, ``:`` or ``/`` in a
    password is a common mistake, and a mask must not show its tail); the user name ends at
    the first ``:``. ``password=`` in the query string or in ``key=value`` form is masked
    first, so that a password there cannot be taken for user information.
    """
    out = _QUERY_PASSWORD.sub(r"\1***", dsn)
    out = _KV_PASSWORD.sub(r"\1***", out)
    scheme, sep, rest = out.partition("://")
    if not sep:
        return out
    at = rest.rfind("@")
    if at < 0:
        return out
    user, colon, _ = rest[:at].partition(":")
    if not colon:
        return out
    return f"{scheme}://{user}:***{rest[at:]}"


def dsn_from_env(var: str = DEFAULT_DSN_ENV, key: str = "postgres.dsn_env") -> str:
    """Read a DSN from the environment variable ``var``.

    Raises:
        ConfigError: The variable is unset or empty (``key`` names the config key).
    """
    dsn = os.environ.get(var, "").strip()
    if not dsn:
        raise ConfigError(key, var, "this environment variable holds no PostgreSQL DSN")
    return dsn


def require_asyncpg() -> Any:
    """Import asyncpg, or explain how to install it."""
    try:
        import asyncpg
    except ImportError:
        raise JournalError(
            "PostgreSQL support needs asyncpg: pip install 'papertape[postgres]'"
        ) from None
    return asyncpg


def is_transient(exc: BaseException) -> bool:
    """True for errors that a reconnect may cure (server gone, restarting, network)."""
    driver = require_asyncpg()
    transient = (
        OSError,
        asyncio.TimeoutError,
        ConnectionError,
        driver.InterfaceError,
        driver.PostgresConnectionError,
        driver.CannotConnectNowError,
        driver.AdminShutdownError,
        driver.CrashShutdownError,
    )
    return isinstance(exc, transient)


def is_login_refused(exc: BaseException) -> bool:
    """True when the server refused the login itself (wrong password, unknown user or database).

    Retrying cannot cure these: the DSN must be fixed.
    """
    driver = require_asyncpg()
    refused = (
        driver.InvalidPasswordError,
        driver.InvalidAuthorizationSpecificationError,
        driver.InvalidCatalogNameError,
    )
    return isinstance(exc, refused)


def login_refused_error(exc: BaseException, dsn: str) -> JournalError:
    """The one clear message for a refused login."""
    return JournalError(
        f"PostgreSQL {mask_dsn(dsn)} refused the login: {exc}. Check the user, password and "
        "database in the DSN's environment variable ([postgres] dsn_env); retrying cannot help"
    )


def check_login(dsn: str, timeout: float = 5.0) -> None:
    """Log in once before a run starts, so a wrong password fails now and once.

    A server that cannot be reached is not an error here (the mirror buffers until it comes
    back); only a refused login is.

    Raises:
        JournalError: The server refused the login.
    """

    async def attempt() -> None:
        conn = await connect(dsn, timeout=timeout)
        await conn.close()

    try:
        run_sync(attempt())
    except Exception as exc:
        if is_login_refused(exc):
            raise login_refused_error(exc, dsn) from None


def translate(exc: BaseException, dsn: str, what: str) -> PapertapeError:
    """A :class:`JournalError` for an asyncpg/OS error, DSN masked."""
    return JournalError(f"PostgreSQL {mask_dsn(dsn)}: {what}: {type(exc).__name__}: {exc}")


async def connect(dsn: str, timeout: float = 10.0) -> asyncpg.Connection:
    """Open one connection (raises asyncpg/OS errors; callers translate or retry)."""
    driver = require_asyncpg()
    conn: asyncpg.Connection = await driver.connect(dsn, timeout=timeout)
    return conn


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code (also inside a running loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, name="papertape-pg-sync")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]
