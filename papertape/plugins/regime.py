"""Regime annotator and regime-aware sizer.

:class:`RegimeAnnotator` loads a trained regime model (see ``papertape train regime``) and
implements ``papertape_annotate``: on every bar of its symbol(s) it feeds the bar's high, low
and close into a per-symbol :class:`~ml.regime.model.RegimeTracker` (incremental features and
the detector's forward-only state: an HMM forward step, a cached window for the VAE and the
Transformer) and adds three fields to the snapshot::

    regime             "calm" | "transition" | "volatile"
    regime_probs       read-only mapping {regime name: probability}
    regime_confidence  the detector's confidence in ``regime`` (its largest probability)

Nothing is added while the features and windows warm up. The engine turns a change of
``regime`` into a :class:`~engine.events.RegimeChanged` journal event.

:class:`RegimeSizer` (registry name ``regime``) sizes a position as
``fraction × multiplier[regime] × equity / price`` (capped at ``max_fraction`` of equity) and
can require a minimum confidence before it adds exposure.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError, SnapshotError
from papertape.engine.execution.orders import Target
from papertape.engine.hookspecs import hookimpl
from papertape.engine.sizing import Sizer

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from papertape.engine.config import PluginRef
    from papertape.engine.execution.orders import Signal
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot
    from papertape.ml.regime.model import RegimeModel, RegimeTracker

__all__ = ["ANNOTATORS", "RegimeAnnotator", "RegimeSizer", "build_annotators"]

# Bars replayed from the snapshot's history when an annotator starts late or a bar was missed.
MAX_CATCH_UP = 100_000


class RegimeAnnotator:
    """Annotates snapshots with the forward-filtered regime of a trained model.

    Args:
        model: A model folder (its latest version), a version folder, or a loaded model.
        symbol: Only annotate this symbol (default: every symbol, each with its own state).
        key: Name of the regime field; the others are ``<key>_probs`` and
            ``<key>_confidence`` (use different keys to run several models side by side).
        base_dir: Folder that a relative ``model`` path is resolved against first (the
            config file's folder); the working directory is tried next.

    Raises:
        ModelError: If the model cannot be loaded.
    """

    def __init__(
        self,
        model: str | Path | RegimeModel,
        symbol: str | None = None,
        key: str = "regime",
        base_dir: str | Path | None = None,
    ) -> None:
        from papertape.ml.regime.model import RegimeModel, load_regime_model

        if isinstance(model, RegimeModel):
            self.model = model
        else:
            path = Path(model).expanduser()
            if not path.is_absolute() and base_dir is not None and (Path(base_dir) / path).exists():
                path = Path(base_dir) / path
            self.model = load_regime_model(path)
        self.symbol = symbol
        self.key = key
        self._probs_key = f"{key}_probs"
        self._conf_key = f"{key}_confidence"
        self._trackers: dict[str, RegimeTracker] = {}
        self._seen: dict[str, int] = {}
        self._cache: dict[str, Mapping[str, Any] | None] = {}

    @hookimpl
    def papertape_annotate(self, snapshot: Snapshot) -> Mapping[str, Any] | None:
        """Regime fields of this bar (None while warming up or for another symbol)."""
        sym = snapshot.symbol
        if self.symbol is not None and sym != self.symbol:
            return None
        count = snapshot.bars()
        seen = self._seen.get(sym, 0)
        if count == seen:  # the same bar again (several snapshots of one bar): same answer
            return self._cache.get(sym)
        tracker = self._trackers.get(sym)
        if tracker is None:
            tracker = self._trackers[sym] = self.model.tracker()
        if count - seen > 1:
            try:
                self._catch_up(snapshot, tracker, count - seen - 1)
            except SnapshotError:  # a live ring no longer holds the missed bars: start over
                tracker = self._trackers[sym] = self.model.tracker()
        reading = tracker.update(snapshot.last("high"), snapshot.last("low"), snapshot.price)
        self._seen[sym] = count
        if reading is None:
            out: Mapping[str, Any] | None = None
        else:
            out = {
                self.key: reading.regime,
                self._probs_key: MappingProxyType(reading.probs_by_name()),
                self._conf_key: reading.confidence,
            }
        self._cache[sym] = out
        return out

    @staticmethod
    def _catch_up(snapshot: Snapshot, tracker: RegimeTracker, missed: int) -> None:
        """Feed bars the annotator has not seen yet (all strictly before this one)."""
        n = min(missed, MAX_CATCH_UP) + 1
        highs = snapshot.window("high", n)[:-1].tolist()
        lows = snapshot.window("low", n)[:-1].tolist()
        closes = snapshot.window("close", n)[:-1].tolist()
        for h, lo, c in zip(highs, lows, closes, strict=True):
            tracker.update(h, lo, c)


class RegimeSizer(Sizer):
    """Fraction of equity scaled per regime, optionally only above a minimum confidence.

    ``qty = min(fraction × multiplier, max_fraction) × equity / price`` where the multiplier is
    ``calm``, ``transition`` or ``volatile`` for the snapshot's regime (``normal`` with four
    regimes) and ``unknown`` while no regime is known yet. With ``min_confidence`` above 0, a
    signal whose regime confidence is lower (or unknown) adds no exposure: the position keeps
    its size when the signal is on the same side, and goes flat otherwise.
    """

    name: ClassVar[str] = "regime"
    defaults: ClassVar[dict[str, Any]] = {
        "fraction": 0.6,
        "calm": 1.5,
        "normal": 1.0,
        "transition": 0.5,
        "volatile": 0.3,
        "unknown": 1.0,
        "min_confidence": 0.0,
        "max_fraction": 1.0,
        "key": "regime",
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        p = self.p
        if not 0.0 < p.fraction <= p.max_fraction:
            raise ConfigError("sizer.fraction", p.fraction, "must be in (0, max_fraction]")
        for regime in ("calm", "normal", "transition", "volatile", "unknown"):
            value = getattr(p, regime)
            if not (math.isfinite(value) and value >= 0.0):
                raise ConfigError(f"sizer.{regime}", value, "multiplier must be >= 0")
        if not 0.0 <= p.min_confidence <= 1.0:
            raise ConfigError("sizer.min_confidence", p.min_confidence, "must be in [0, 1]")
        self._multipliers = {
            r: float(getattr(p, r)) for r in ("calm", "normal", "transition", "volatile")
        }
        self._conf_key = f"{p.key}_confidence"

    def multiplier(self, snap: Snapshot) -> float | None:
        """The exposure multiplier for this snapshot, or None when the sizer must not add risk."""
        ann = snap.annotations
        regime = ann.get(self.p.key)
        confidence = ann.get(self._conf_key)
        if self.p.min_confidence > 0.0 and (
            regime is None or confidence is None or confidence < self.p.min_confidence
        ):
            return None
        if regime is None:
            return float(self.p.unknown)
        return self._multipliers.get(str(regime), float(self.p.unknown))

    def size(self, signal: Signal, snap: Snapshot, portfolio: PortfolioView, price: float) -> float:
        """Regime-scaled fraction of equity, in units."""
        mult = self.multiplier(snap)
        if mult is None:
            current = portfolio.qty(signal.symbol or snap.symbol)
            same_side = (current > 0) == (signal.target is Target.LONG) and current != 0.0
            return abs(current) if same_side else 0.0
        frac = min(self.p.fraction * mult, self.p.max_fraction)
        return max(frac * portfolio.equity, 0.0) / price if price > 0.0 else 0.0


ANNOTATORS: dict[str, type[RegimeAnnotator]] = {"regime": RegimeAnnotator}
"""Annotators a config can name in ``[[annotators]]``, by name."""


def build_annotators(
    refs: Iterable[PluginRef], base_dir: str | Path = "."
) -> list[RegimeAnnotator]:
    """Instantiate the ``[[annotators]]`` entries of a run config.

    ``{ name = "regime", model = "models/hmm-spx", symbol = "SPX", key = "regime" }``: a
    relative ``model`` path is looked up next to the config file, then in the working folder.

    Raises:
        ConfigError: On an unknown annotator name or parameter, naming the entry.
        ModelError: If a model cannot be loaded.
    """
    out = []
    for i, ref in enumerate(refs):
        cls = ANNOTATORS.get(ref.name)
        if cls is None:
            raise ConfigError(
                f"annotators.{i}.name",
                ref.name,
                f"unknown annotator; available: {sorted(ANNOTATORS)}",
            )
        params = ref.params
        unknown = sorted(set(params) - {"model", "symbol", "key"})
        if unknown or "model" not in params:
            raise ConfigError(
                f"annotators.{i}", params, "takes `model` (required), `symbol` and `key`"
            )
        out.append(
            cls(
                str(params["model"]),
                symbol=params.get("symbol"),
                key=str(params.get("key", "regime")),
                base_dir=base_dir,
            )
        )
    return out


@hookimpl
def papertape_sizers() -> Sequence[type[Sizer]]:
    """Register the regime sizer."""
    return (RegimeSizer,)
