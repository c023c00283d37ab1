"""PPO trains a sizing policy in seconds on tiny data; the ``rl`` sizer loads it and sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from papertape.engine.errors import ConfigError, ModelError
from papertape.engine.registry import build_catalog, make_plugin_manager
from papertape.ml.rl.observation import FEATURES
from papertape.ml.rl.setup import SLOT, SizingSetup, date_ns, window
from papertape.ml.rl.training import PPOSettings, load_policy, train_sizer
from papertape.plugins.rl_sizer import RLSizer
from tests.ml.conftest import SPX_FILE

TINY = PPOSettings(timesteps=256, n_steps=64, batch_size=32, n_epochs=1, hidden=8)


@pytest.fixture(scope="module")
def setup() -> SizingSetup:
    from papertape.engine.feeds.loader import load_bars

    spx = load_bars(SPX_FILE, symbol="SPX")
    return SizingSetup(
        window(spx, date_ns("2012-01-01"), date_ns("2014-01-01")),
        "sma_cross",
        {"fast": 3, "slow": 8},
    )


@pytest.fixture(scope="module")
def trained(setup: SizingSetup, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "rl-sizer"
    return train_sizer(setup, out, seed=3, ppo=TINY).path


def test_training_saves_a_registry_version_with_its_metadata(trained: Path) -> None:
    from papertape.ml.registry import read_metadata

    meta = read_metadata(trained)
    assert trained.name == "v1"
    assert meta["kind"] == "rl_sizer" and meta["seed"] == 3
    assert meta["features"] == list(FEATURES)
    assert meta["data"]["first"].startswith("2012-01-0") and meta["data"]["rows"] > 400
    assert meta["reward"]["drawdown_penalty"] == 0.5
    assert meta["metrics"]["train"]["decisions"] > 10
    assert set(meta["versions"]) >= {"stable_baselines3", "torch", "gymnasium"}


def test_the_same_seed_gives_the_same_policy(
    setup: SizingSetup, trained: Path, tmp_path: Path
) -> None:
    again = train_sizer(setup, tmp_path / "again", seed=3, ppo=TINY).path
    a, _ = load_policy(trained)
    b, _ = load_policy(again)
    obs = np.linspace(-1.0, 1.0, len(FEATURES)).astype(np.float32)
    assert a(obs) == b(obs)


def test_the_rl_sizer_is_in_the_catalog_and_sizes_a_run(setup: SizingSetup, trained: Path) -> None:
    pm, broken = make_plugin_manager((), entry_points=False)
    assert build_catalog(pm, broken).sizer("rl") is RLSizer
    sizer = RLSizer(model=str(trained.parent))
    engine = setup.build(sizer)
    engine.run_sync()
    slot = next(s for s in engine.slots if s.id == SLOT)
    assert sizer.decisions and all(0.0 <= d.fraction <= 1.0 for d in sizer.decisions)
    assert slot.portfolio.trades or slot.portfolio.positions


def test_the_rl_sizer_refuses_a_missing_or_foreign_model(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sizer\.model"):
        RLSizer()
    with pytest.raises(ModelError, match="no trained model"):
        RLSizer(model=str(tmp_path))
