"""Incremental indicators for the tick loop: one ``update`` per bar, O(1), plain Python floats.

Every class has ``__slots__``, an ``update(...) -> float`` that returns the current value (NaN
during the warm-up) and a ``value`` attribute holding the same number; after the same bars
each agrees with its vectorised twin in :mod:`engine.indicators.vectorised` to floating-point
tolerance, NaN warm-up included. Windows live in preallocated lists used as rings, and running
sums are recomputed exactly (``math.fsum``) every time the ring wraps, so rounding errors
cannot pile up over millions of updates.
"""
