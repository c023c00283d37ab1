"""Text and numbers to bar times: ISO 8601 strings and epoch numbers, in ns since 1970 (UTC).

A time column is read one of two ways, decided by its first non-empty value:

* **Epoch numbers** when that value is a number (``1570752011``, ``1570752011620``,
  ``1.6e12``, ``1570752011620.0``). A column of integers is read exactly as int64; a column
  with any decimal point or exponent is read as float64 (exact for values below 2**53 in the
  unit written, which covers every epoch in ms or coarser). The unit is chosen once per column
  from the median magnitude: below 1e11 seconds, below 1e14 milliseconds, below 1e17
  microseconds, else nanoseconds. A value that is not a finite number, or that does not fit
  a datetime64[ns] (years 1678-2262), is unparseable.
* **ISO 8601** otherwise (``1999-01-04``, ``2019-10-11T00:00:11.620000Z``, ``...+02:00``);
  a time without an offset is UTC.

An empty field is missing (:data:`TIME_MISSING`), never unparseable.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "TIME_MISSING",
    "choose_epoch_scale",
    "epoch_to_ns",
    "float_epoch_to_ns",
    "parse_timestamps",
]

BoolArray = NDArray[np.bool_]

TIME_MISSING = np.iinfo(np.int64).min
"""Time sentinel for an absent timestamp (the bit pattern of numpy's ``NaT``)."""

# ISO dates whose year keeps a datetime64[ns] in range (numpy wraps silently outside it).
_SAFE_DATE = r"(?:1[7-9]\d\d|2[01]\d\d|22[0-5]\d|226[01])-\d\d-\d\d"
_SAFE_DATE_RE = re.compile(_SAFE_DATE)
_UNSAFE_LINE_RE = re.compile(rf"^(?!{_SAFE_DATE}|$)", re.MULTILINE)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER_RE = re.compile(r"[+-]?\d+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT64_MAX = 2**63 - 1
_NS_MIN = _EPOCH - timedelta(microseconds=_INT64_MAX // 1000)
_NS_MAX = _EPOCH + timedelta(microseconds=_INT64_MAX // 1000)


def parse_timestamps(values: list[str]) -> tuple[NDArray[np.int64], BoolArray]:
    """Convert ISO 8601 or epoch-number strings to ns since the epoch (UTC).

    Returns:
        Times (:data:`TIME_MISSING` where empty or unparseable) and a mask of unparseable,
        non-empty fields.
    """
    first = next((text.strip() for text in values if text.strip()), "")
    if _NUMBER_RE.fullmatch(first):
        return _parse_epoch(values)
    return _parse_iso(values)


def choose_epoch_scale(magnitude: float) -> int:
    """Nanoseconds per unit of an epoch column whose median absolute value is ``magnitude``.

    Below 1e11 the values are seconds (up to the year 5138), below 1e14 milliseconds, below
    1e17 microseconds, else nanoseconds.
    """
    if magnitude < 1e11:
        return 10**9
    if magnitude < 1e14:
        return 10**6
    if magnitude < 1e17:
        return 10**3
    return 1


def epoch_to_ns(
    raw: NDArray[np.int64], present: BoolArray, scale: int | None = None
) -> tuple[NDArray[np.int64], BoolArray]:
    """Scale integer epoch times to ns.

    Args:
        raw: Epoch integers (any value where ``present`` is false).
        present: Which entries hold a value.
        scale: Nanoseconds per unit of ``raw``; chosen by :func:`choose_epoch_scale` from the
            median magnitude when omitted.

    Returns:
        Times in ns (:data:`TIME_MISSING` where absent or out of range) and a mask of values
        that do not fit a datetime64[ns].
    """
    if scale is None:
        magnitude = float(np.median(np.abs(raw[present]))) if present.any() else 0.0
        scale = choose_epoch_scale(magnitude)
    limit = _INT64_MAX // scale
    out_of_range = present & ((raw >= limit) | (raw <= -limit))
    ok = present & ~out_of_range
    if ok.all():  # the usual column: one multiplication, no masked copies
        return raw * scale, out_of_range
    ns = np.full(len(raw), TIME_MISSING, dtype=np.int64)
    ns[ok] = raw[ok] * scale
    return ns, out_of_range


def float_epoch_to_ns(
    values: NDArray[np.float64], present: BoolArray, scale: int | None = None
) -> tuple[NDArray[np.int64], BoolArray]:
    """Scale epoch times written as floats (``1.6e12``, ``1600000000000.0``) to ns.

    The whole part is scaled exactly as an integer; only the fraction is rounded.

    Args:
        values: Epoch numbers (any value where ``present`` is false).
        present: Which entries hold a value.
        scale: Nanoseconds per unit; chosen from the median magnitude when omitted.

    Returns:
        Times in ns (:data:`TIME_MISSING` where absent or unusable) and a mask of values that
        are not finite or do not fit a datetime64[ns].
    """
    finite = present & np.isfinite(values)
    if scale is None:
        magnitude = float(np.median(np.abs(values[finite]))) if finite.any() else 0.0
        scale = choose_epoch_scale(magnitude)
    with np.errstate(invalid="ignore"):
        in_range = finite & (np.abs(values) < (_INT64_MAX // scale))
    whole = np.floor(values[in_range])
    ns = np.full(len(values), TIME_MISSING, dtype=np.int64)
    ns[in_range] = whole.astype(np.int64) * scale + np.rint(
        (values[in_range] - whole) * scale
    ).astype(np.int64)
    return ns, present & ~in_range


def _parse_epoch(values: list[str]) -> tuple[NDArray[np.int64], BoolArray]:
    n = len(values)
    present = np.ones(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    try:
        raw = np.array(values, dtype=np.int64)
    except (ValueError, OverflowError):
        raw = np.zeros(n, dtype=np.int64)
        floats = False
        for i, text in enumerate(values):
            try:
                raw[i] = int(text)
            except (ValueError, OverflowError):
                present[i] = False
                stripped = text.strip()
                bad[i] = bool(stripped)
                # an integer too big for int64 stays unparseable; "1.6e12" switches to floats
                floats = floats or bool(
                    _NUMBER_RE.fullmatch(stripped) and not _INTEGER_RE.fullmatch(stripped)
                )
        if floats:
            return _parse_float_epoch(values)
    ns, out_of_range = epoch_to_ns(raw, present)
    return ns, bad | out_of_range


def _parse_float_epoch(values: list[str]) -> tuple[NDArray[np.int64], BoolArray]:
    """Read a column with decimal or exponent epochs: every value as a float64."""
    n = len(values)
    out = np.empty(n, dtype=np.float64)
    present = np.ones(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    for i, text in enumerate(values):
        try:
            out[i] = float(text)
        except ValueError:
            present[i] = False
            bad[i] = bool(text.strip())
    ns, unusable = float_epoch_to_ns(out, present)
    return ns, bad | unusable


def _parse_iso(values: list[str]) -> tuple[NDArray[np.int64], BoolArray]:
    n = len(values)
    joined = "\n".join(values).replace("Z\n", "\n")
    joined = joined.removesuffix("Z")
    # Fast path only when every non-empty line starts with a date numpy cannot overflow;
    # anything else ("now", offsets, odd years) goes through the careful per-value parser.
    if not _UNSAFE_LINE_RE.search(joined):
        parts = joined.split("\n")
        if len(parts) == n:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    parsed = np.array(parts, dtype="datetime64[ns]")
                return parsed.view(np.int64), np.zeros(n, dtype=bool)
            except (ValueError, Warning):
                pass
    out = np.empty(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    for i, text in enumerate(values):
        try:
            out[i] = _iso_to_ns(text)
        except (ValueError, OverflowError):
            out[i] = TIME_MISSING
            bad[i] = True
    return out, bad


def _iso_to_ns(text: str) -> int:
    """Parse one ISO 8601 time; :data:`TIME_MISSING` for an empty field."""
    value = text.strip()
    if not value:
        return int(TIME_MISSING)
    naive = value[:-1] if value[-1] in "Zz" else value
    if _SAFE_DATE_RE.match(naive):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                return int(np.datetime64(naive, "ns").astype(np.int64))
        except (ValueError, Warning):
            pass  # e.g. a "+02:00" offset: datetime handles those below
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not _NS_MIN <= moment <= _NS_MAX:
        raise ValueError(f"{value} is outside the datetime64[ns] range")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1_000
