from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "name", ["papertape.ml", "papertape.ml.regime", "papertape.plugins.regime"]
)
def test_all_is_explicit_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported and len(set(exported)) == len(exported)
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names missing {member}"


def test_importing_the_ml_package_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, papertape.ml, papertape.ml.regime, papertape.plugins.regime; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
