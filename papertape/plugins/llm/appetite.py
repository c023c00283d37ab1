"""Risk appetite: what a persona means to the calibrated decoder of a base model.

A chat model reads the persona as text (:data:`plugins.llm.prompt.PERSONAS`). The packaged
base model decides from a few-shot document that has no room for one
(:mod:`plugins.llm.fewshot`), so there the persona *tilts* the calibrated action probabilities
before the choice, by the exposure each action takes on:

* BUY and SELL open (or reverse into) a position: exposure +1; HOLD keeps what is held: 0;
  CLOSE removes it: -1;
* ``conservative`` multiplies an action's probability by ``1 / APPETITE_FACTOR`` per unit of
  exposure, ``aggressive`` by ``APPETITE_FACTOR``, ``moderate`` leaves it as it is (and asks
  exactly what it asked before personas tilted anything: no tilt in the request).

So a conservative trader opens only when the model prefers opening to holding off by more than
:data:`APPETITE_FACTOR` to one, and keeps a position only when the model prefers holding it to
closing by as much; an aggressive trader is the mirror image. 1.25 is the median odds of the
model's calibrated choices on the shipped arena (median confidence 0.556 of two actions,
45 decisions): the persona overrides the calls the model is least sure of and leaves every
clear call to the model. The stated ``confidence`` stays the model's calibrated probability
of the action taken, not the tilted weight.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["APPETITE_FACTOR", "EXPOSURE", "STANCE", "Tilt", "persona_tilt", "tilted"]

APPETITE_FACTOR = 1.25
EXPOSURE: dict[str, int] = {"BUY": 1, "SELL": 1, "HOLD": 0, "CLOSE": -1}
STANCE: dict[str, int] = {"conservative": -1, "moderate": 0, "aggressive": 1}

Tilt = tuple[tuple[str, float], ...]


def persona_tilt(persona: str) -> Tilt:
    """The weight of each action for ``persona`` (``()`` for ``moderate``: no tilt).

    Raises:
        KeyError: ``persona`` is not a key of :data:`STANCE`.
    """
    stance = STANCE[persona]
    if stance == 0:
        return ()
    return tuple((a, APPETITE_FACTOR ** (stance * e)) for a, e in EXPOSURE.items())


def tilted(probs: Mapping[str, float], tilt: Tilt) -> dict[str, float]:
    """``probs`` weighted by ``tilt`` and renormalised (unchanged without a tilt)."""
    if not tilt:
        return dict(probs)
    weights = dict(tilt)
    raw = {a: p * weights.get(a, 1.0) for a, p in probs.items()}
    total = sum(raw.values())
    if total <= 0.0:
        return dict(probs)
    return {a: v / total for a, v in raw.items()}
