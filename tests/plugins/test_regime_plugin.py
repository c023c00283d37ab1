from __future__ import annotations

from importlib.resources import files
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pluggy
import pytest

from papertape.engine import hookspecs
from papertape.engine.config import PluginRef, parse_config
from papertape.engine.errors import ConfigError, ModelError, SnapshotError
from papertape.engine.execution.orders import Signal
from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.loader import load_bars
from papertape.engine.loop import Engine, SlotSpec
from papertape.engine.market import ReplayHistory
from papertape.engine.portfolio import Portfolio, PortfolioView, Position
from papertape.engine.registry import build_catalog, make_plugin_manager
from papertape.engine.session import run_session
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from papertape.ml.regime.model import train_regime_model
from papertape.plugins.regime import RegimeAnnotator, RegimeSizer, build_annotators
from papertape.plugins.sizers import FixedQuantity
from tests.conftest import Recorder

SPX = Path(str(files("papertape.engine") / "data" / "sp500_daily.csv"))


@pytest.fixture(scope="module")
def spx() -> BarSeries:
    s = load_bars(SPX, symbol="SPX")
    n = int(np.searchsorted(s.time, np.datetime64("2004-01-01", "ns").astype(np.int64)))
    return BarSeries.from_arrays(
        "SPX", s.time[:n], s.open[:n], s.high[:n], s.low[:n], s.close[:n], s.volume[:n]
    )


@pytest.fixture(scope="module")
def hmm_dir(spx: BarSeries, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "hmm-spx"
    train_regime_model(
        spx, "hmm", train_end="2001-12-31", hyperparameters={"n_init": 1}, seed=7
    ).save(out)
    return out


class Peek(Strategy):
    """Records the annotations of every snapshot it sees."""

    name = "peek"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict[str, Any]] = []

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> None:
        self.seen.append(dict(snap.annotations))


def _engine(
    series: list[BarSeries], strategy: Strategy, plugins: list[object]
) -> tuple[Engine, Recorder]:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    rec = Recorder()
    pm.register(rec)
    for p in plugins:
        pm.register(p)
    return Engine(series, [SlotSpec("s", strategy, FixedQuantity(qty=1.0))], pm), rec


def test_annotator_adds_the_filtered_regime_to_every_snapshot(
    spx: BarSeries, hmm_dir: Path
) -> None:
    annotator = RegimeAnnotator(hmm_dir)
    peek = Peek()
    engine, rec = _engine([spx], peek, [annotator])
    engine.run_sync()
    expected = list(annotator.model.label_series(spx).readings())
    assert len(peek.seen) == len(spx)
    for seen, (_, reading) in zip(peek.seen, expected, strict=True):
        if reading is None:
            assert "regime" not in seen
            continue
        assert seen["regime"] == reading.regime
        assert seen["regime_confidence"] == pytest.approx(reading.confidence, abs=1e-12)
        assert dict(seen["regime_probs"]) == pytest.approx(reading.probs_by_name(), abs=1e-12)
    # every change of regime is one journal event, the first with previous=None
    changes = rec.kinds("regime_changed")
    labels = [r.regime for _, r in expected if r is not None]
    switches = sum(a != b for a, b in pairwise(labels))
    assert len(changes) == switches + 1 and changes[0].previous is None
    assert all(e.previous != e.regime for e in changes)
    assert [e.regime for e in changes[:-1]] == [e.previous for e in changes[1:]]
    assert changes[0].time == int(spx.time[21]) and changes[0].symbol == "SPX"
    assert engine.event_counts["regime_changed"] == len(changes)


def test_annotator_catches_up_on_bars_it_did_not_see(spx: BarSeries, hmm_dir: Path) -> None:
    annotator = RegimeAnnotator(hmm_dir, symbol="SPX")
    history = ReplayHistory(spx)
    expected = annotator.model.label_series(spx).probs

    def snap(count: int, symbol: str = "SPX") -> Snapshot:
        return Snapshot(
            int(spx.time[count - 1]),
            symbol,
            float(spx.close[count - 1]),
            (count,),
            (symbol,),
            (history,),
        )

    for count in (300, 301, 302, 320, 700):  # started late, then skipped bars
        out = annotator.papertape_annotate(snap(count))
        assert out is not None
        probs = list(out["regime_probs"].values())
        np.testing.assert_allclose(probs, expected[count - 1], atol=1e-12)
    again = annotator.papertape_annotate(snap(700))
    assert again is not None and again["regime_confidence"] == out["regime_confidence"]
    assert RegimeAnnotator(hmm_dir, symbol="ES").papertape_annotate(snap(300)) is None


def test_annotator_restarts_when_a_live_ring_lost_the_missed_bars(
    spx: BarSeries, hmm_dir: Path
) -> None:
    class ShortRing(ReplayHistory):
        def column(self, field: Any, count: int, length: int) -> Any:
            if length > 1:
                raise SnapshotError("overwritten")
            return super().column(field, count, length)

    annotator = RegimeAnnotator(hmm_dir)
    ring = ShortRing(spx)

    def snap(count: int) -> Snapshot:
        c = float(spx.close[count - 1])
        return Snapshot(int(spx.time[count - 1]), "SPX", c, (count,), ("SPX",), (ring,))

    assert annotator.papertape_annotate(snap(10)) is None  # started late, history unavailable
    outs = [annotator.papertape_annotate(snap(n)) for n in range(11, 40)]
    assert outs[-1] is not None  # warmed up again from the bars it saw


def test_annotator_keys_can_be_renamed(hmm_dir: Path, spx: BarSeries) -> None:
    ann = RegimeAnnotator(hmm_dir, key="hmm")
    history = ReplayHistory(spx)
    out = ann.papertape_annotate(
        Snapshot(int(spx.time[99]), "SPX", float(spx.close[99]), (100,), ("SPX",), (history,))
    )
    assert out is not None and set(out) == {"hmm", "hmm_probs", "hmm_confidence"}


def test_missing_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        RegimeAnnotator(tmp_path / "none")


# ---------------------------------------------------------------------------------------------
# sizer
# ---------------------------------------------------------------------------------------------


def _snap(annotations: dict[str, Any]) -> Snapshot:
    s = BarSeries.from_arrays(
        "X",
        np.array([0], dtype=np.int64),
        np.ones(1),
        np.ones(1),
        np.ones(1),
        np.ones(1),
        np.ones(1),
    )
    return Snapshot(0, "X", 100.0, (1,), ("X",), (ReplayHistory(s),)).with_annotations(annotations)


def _view(qty: float = 0.0, cash: float = 10_000.0) -> PortfolioView:
    pf = Portfolio("s", cash)
    if qty:
        pf.positions["X"] = Position("X", qty, 100.0, 0, 0, 0.0)
        pf.cash -= qty * 100.0
    return PortfolioView(pf, {"X": 100.0})


@pytest.mark.parametrize(
    ("regime", "units"),
    [("calm", 90.0), ("transition", 30.0), ("volatile", 18.0), (None, 60.0), ("weird", 60.0)],
)
def test_sizer_scales_exposure_per_regime(regime: str | None, units: float) -> None:
    sizer = RegimeSizer()  # fraction 0.6 × calm 1.5 / transition 0.5 / volatile 0.3
    ann = {} if regime is None else {"regime": regime, "regime_confidence": 0.9}
    assert sizer.size(Signal.long(), _snap(ann), _view(), 100.0) == pytest.approx(units)


def test_sizer_caps_at_max_fraction() -> None:
    sizer = RegimeSizer(fraction=0.8, calm=2.0, max_fraction=1.0)
    assert sizer.size(Signal.long(), _snap({"regime": "calm"}), _view(), 100.0) == pytest.approx(
        100.0
    )


def test_low_confidence_adds_no_exposure() -> None:
    sizer = RegimeSizer(min_confidence=0.7)
    unsure = _snap({"regime": "calm", "regime_confidence": 0.5})
    sure = _snap({"regime": "calm", "regime_confidence": 0.75})
    assert sizer.size(Signal.long(), unsure, _view(), 100.0) == 0.0  # flat stays flat
    assert sizer.size(Signal.long(), unsure, _view(qty=5.0), 100.0) == 5.0  # long keeps its size
    assert sizer.size(Signal.short(), unsure, _view(qty=5.0), 100.0) == 0.0  # opposite: go flat
    assert sizer.size(Signal.long(), _snap({}), _view(), 100.0) == 0.0  # no regime yet
    assert sizer.size(Signal.long(), sure, _view(), 100.0) == pytest.approx(90.0)


@pytest.mark.parametrize(
    "params",
    [{"fraction": 1.5}, {"volatile": -0.1}, {"min_confidence": 1.5}, {"fraction": 0.0}],
)
def test_bad_sizer_parameters_are_config_errors(params: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        RegimeSizer(**params)


def test_regime_sizer_is_registered_with_the_builtins() -> None:
    pm, broken = make_plugin_manager(entry_points=False)
    assert build_catalog(pm, broken).sizer("regime") is RegimeSizer


# ---------------------------------------------------------------------------------------------
# config → session
# ---------------------------------------------------------------------------------------------


def test_a_config_enables_the_annotator_and_the_sizer_in_a_session(
    hmm_dir: Path, tmp_path: Path
) -> None:
    config = parse_config(
        {
            "run": {"name": "regime-test"},
            "data": [{"path": str(SPX), "symbol": "SPX"}],
            "annotators": [{"name": "regime", "model": hmm_dir.name}],
            "strategies": [
                {
                    "name": "sma_cross",
                    "params": {"fast": 10, "slow": 30},
                    "sizer": {"name": "regime", "min_confidence": 0.6},
                }
            ],
        },
        base_dir=hmm_dir.parent,
    )
    rec = Recorder()
    result = run_session(config, journal=False, extra_plugins=[rec])
    changes = rec.kinds("regime_changed")
    assert len(changes) > 20 and {e.regime for e in changes} == {"calm", "transition", "volatile"}
    assert result.strategies["sma_cross"].metrics.trades > 10
    # each entry (from flat) is 0.6 × the regime's multiplier of equity at the decision close
    series = load_bars(SPX, symbol="SPX")
    equity = result.strategies["sma_cross"].equity
    mult = {"calm": 1.5, "transition": 0.5, "volatile": 0.3}
    entries = [
        e for e in rec.kinds("order") if e.role == "entry" and e.side > 0
    ]  # long-only: buys open
    assert len(entries) > 10
    seen_regimes = set()
    for order in entries:
        i = int(np.searchsorted(series.time, order.time))
        regime = [c.regime for c in changes if c.time <= order.time][-1]
        seen_regimes.add(regime)
        exposure = order.qty * float(series.close[i]) / equity[i]
        assert exposure == pytest.approx(0.6 * mult[regime], rel=1e-9)
    assert len(seen_regimes) >= 2


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        (PluginRef(name="hmm", model="x"), "annotators.0.name"),
        (PluginRef(name="regime"), "annotators.0"),
        (PluginRef(name="regime", model="x", colour="red"), "annotators.0"),
    ],
)
def test_bad_annotator_entries_name_the_key(ref: PluginRef, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        build_annotators([ref])
    assert err.value.key == key
