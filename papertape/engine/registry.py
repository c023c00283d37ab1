"""The plugin manager: built-ins registered explicitly, then entry points, then drop-in files.

Order of registration (later plugins cannot silently replace earlier names; a clash is an error):

1. built-in plugins (sizers, shields) and the built-in strategies package ``strategies``;
2. third-party packages exposing the ``papertape`` entry-point group;
3. drop-in ``*.py`` files from extra strategy folders (``./strategies`` of the working directory
   when it is not the built-in package, plus folders named in the config or on the CLI).

A drop-in file that fails to import is logged and listed in :attr:`Catalog.broken`; the run
goes on unless the strategy it would have provided is requested.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import pkgutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pluggy

from papertape.engine import hookspecs
from papertape.engine.errors import PluginError, UnknownStrategy
from papertape.engine.hookspecs import PROJECT, hookimpl
from papertape.engine.risk.base import Shield
from papertape.engine.sizing import Sizer
from papertape.engine.strategy import Strategy

__all__ = ["Catalog", "build_catalog", "make_plugin_manager"]

log = logging.getLogger("papertape.registry")
T = TypeVar("T")


class DropInModule:
    """Wraps an imported strategy module so its Strategy subclasses register through the hook."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.classes = [
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, Strategy)
            and obj is not Strategy
            and obj.__module__ == module.__name__
            and obj.name
        ]

    @hookimpl
    def papertape_strategies(self) -> list[type[Strategy]]:
        """The module's strategy classes."""
        return self.classes


def _builtin_strategy_modules() -> list[ModuleType]:
    from papertape import strategies

    mods = []
    for info in sorted(pkgutil.iter_modules(strategies.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            mods.append(importlib.import_module(f"papertape.strategies.{info.name}"))
    return mods


def _load_file(path: Path, broken: list[tuple[str, str]]) -> ModuleType | None:
    name = f"papertape_dropin.{path.parent.name}.{path.stem}"
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError("not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # user code (even sys.exit()): contain, report
        sys.modules.pop(name, None)
        broken.append((str(path), f"{type(exc).__name__}: {exc}"))
        log.error("cannot load strategy file %s: %s: %s", path, type(exc).__name__, exc)
        return None
    return module


def make_plugin_manager(
    strategy_dirs: Iterable[str | Path] = (), entry_points: bool = True
) -> tuple[pluggy.PluginManager, list[tuple[str, str]]]:
    """Create the plugin manager with every plugin registered; return it and broken files."""
    from papertape.plugins import shields as builtin_shields
    from papertape.plugins import sizers as builtin_sizers

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(builtin_sizers, "papertape.sizers")
    pm.register(builtin_shields, "papertape.shields")
    pm.register(importlib.import_module("papertape.plugins.regime"), "papertape.regime")
    pm.register(importlib.import_module("papertape.plugins.rl_sizer"), "papertape.rl_sizer")
    builtin_dir: Path | None = None
    for mod in _builtin_strategy_modules():
        pm.register(DropInModule(mod), f"papertape.strategies.{mod.__name__}")
        if mod.__file__:
            builtin_dir = Path(mod.__file__).resolve().parent
    if entry_points:
        pm.load_setuptools_entrypoints(PROJECT)
    broken: list[tuple[str, str]] = []
    dirs = [Path(d) for d in strategy_dirs]
    cwd_dir = Path.cwd() / "strategies"
    if cwd_dir.is_dir():
        dirs.insert(0, cwd_dir)
    seen: set[Path] = set() if builtin_dir is None else {builtin_dir}
    for d in dirs:
        if not d.is_dir():
            raise PluginError(f"strategy folder {d} does not exist")
        if d.resolve() in seen:  # the built-ins, ./strategies or a folder named twice: once
            continue
        seen.add(d.resolve())
        for path in sorted(d.glob("*.py")):
            if path.name.startswith("_"):
                continue
            module = _load_file(path, broken)
            if module is None:
                continue
            pm.register(DropInModule(module), f"papertape.dropin.{path}")
            if any(hasattr(v, f"{PROJECT}_impl") for v in vars(module).values()):
                pm.register(module, f"papertape.dropin-hooks.{path}")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"a plugin implements an unknown hook (misspelt?): {exc}") from None
    return pm, broken


@dataclass
class Catalog:
    """Every strategy, sizer and shield known to a plugin manager, by name."""

    strategies: dict[str, type[Strategy]] = field(default_factory=dict)
    sizers: dict[str, type[Sizer]] = field(default_factory=dict)
    shields: dict[str, type[Shield]] = field(default_factory=dict)
    broken: list[tuple[str, str]] = field(default_factory=list)

    def strategy(self, name: str) -> type[Strategy]:
        """Look a strategy up, with a helpful error."""
        try:
            return self.strategies[name]
        except KeyError:
            pass
        for path, why in self.broken:
            if _may_define(Path(path), name):
                raise UnknownStrategy(
                    f"strategy {name!r}: its file {path} failed to import: {why}"
                ) from None
        hint = (
            "; these strategy files failed to import: "
            + "; ".join(f"{path} ({why})" for path, why in self.broken)
            if self.broken
            else ""
        )
        raise UnknownStrategy(
            f"unknown strategy {name!r}; available: {', '.join(sorted(self.strategies))}{hint}"
        ) from None

    def sizer(self, name: str) -> type[Sizer]:
        """Look a sizer up, with a helpful error."""
        return _lookup("sizer", self.sizers, name)

    def shield(self, name: str) -> type[Shield]:
        """Look a shield up, with a helpful error."""
        return _lookup("shield", self.shields, name)


def _may_define(path: Path, name: str) -> bool:
    """Whether a file that failed to import is likely where strategy ``name`` lives."""
    if path.stem == name:
        return True
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return f'"{name}"' in text or f"'{name}'" in text


def _lookup(kind: str, table: dict[str, T], name: str) -> T:
    try:
        return table[name]
    except KeyError:
        raise PluginError(
            f"unknown {kind} {name!r}; available: {', '.join(sorted(table))}"
        ) from None


def _collect(kind: str, results: list[Any], base: type) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for group in results:
        for cls in group or ():
            name = getattr(cls, "name", "")
            if not (inspect.isclass(cls) and issubclass(cls, base)) or not name:
                raise PluginError(f"{kind} plugin returned {cls!r}, not a named {base.__name__}")
            other = table.get(name)
            if other is not None and other is not cls:
                first = f"{other.__module__}.{other.__qualname__}"
                raise PluginError(
                    f"the {kind} name {name!r} is taken twice: "
                    f"{first} and {cls.__module__}.{cls.__qualname__}"
                )
            table[name] = cls
    return table


def build_catalog(pm: pluggy.PluginManager, broken: list[tuple[str, str]] | None = None) -> Catalog:
    """Ask every plugin for its classes and index them by name."""
    return Catalog(
        strategies=_collect("strategy", pm.hook.papertape_strategies(), Strategy),
        sizers=_collect("sizer", pm.hook.papertape_sizers(), Sizer),
        shields=_collect("shield", pm.hook.papertape_shields(), Shield),
        broken=list(broken or []),
    )
