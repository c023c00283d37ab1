"""Who may import whom: the core does not import built-in plugins; sessions share assembly."""

from __future__ import annotations

import ast
from pathlib import Path

import papertape.engine

ENGINE = Path(papertape.engine.__file__).parent
ASSEMBLY = {"registry.py", "assembly.py"}  # where built-in plugins are registered
# A journal replay stands in for every recorded slot, LLM traders included (it recomputes
# their outcomes from the replay's fills): it assembles a session of its own.
REPLAY = {"decisions.py"}


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_the_core_imports_built_in_plugins_only_where_it_assembles_them() -> None:
    offenders = {
        str(p.relative_to(ENGINE)): sorted(
            m for m in _imports(p) if m.startswith(("papertape.plugins", "papertape.strategies"))
        )
        for p in ENGINE.rglob("*.py")
        if p.name not in ASSEMBLY | REPLAY and "cli" not in p.relative_to(ENGINE).parts
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_live_session_does_not_import_the_replay_session() -> None:
    assert "papertape.engine.session" not in _imports(ENGINE / "live" / "session.py")
    assert "papertape.engine.session" not in _imports(ENGINE / "assembly.py")
