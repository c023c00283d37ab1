"""Incremental indicators for the tick loop: one ``update`` per bar, O(1), plain Python floats.

Every class has ``__slots__``, an ``update(...) -> float`` that returns the current value (NaN
during the warm-up) and a ``value`` attribute holding the same number; after the same bars
each agrees with its vectorised twin in :mod:`engine.indicators.vectorised` to floating-point
tolerance, NaN warm-up included. No numpy on the hot path: windows live in preallocated lists
used as rings, and nothing is allocated per update beyond the float objects CPython makes for
every result. Running sums are recomputed exactly (``math.fsum``) each time a ring wraps, so
rounding errors cannot pile up over millions of updates; that O(period) step (which builds one
short list in the variance and slope classes) runs once per ``period`` updates, O(1) amortised.
"""
