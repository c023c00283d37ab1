"""``trusted_maker``: the portfolio's closed trades, equal to checked ones, still frozen."""

from __future__ import annotations

import dataclasses

import pytest

from papertape.engine.errors import ExecutionError
from papertape.engine.metrics import ClosedTrade
from papertape.engine.values import trusted_maker

ARGS = ("X", -1, 2.5, 10, 100.0, 20, 99.0, 2.4, 0.1, 3)


def test_a_trusted_trade_equals_the_checked_one_and_stays_frozen() -> None:
    # Arrange
    make = trusted_maker(ClosedTrade)

    # Act
    trade = make(*ARGS)

    # Assert
    assert trade == ClosedTrade(*ARGS)
    assert type(trade) is ClosedTrade
    with pytest.raises(dataclasses.FrozenInstanceError):
        trade.qty = 1.0  # type: ignore[misc]


def test_the_trusted_maker_skips_only_the_checks() -> None:
    bad = ("X", 0, 2.5, 10, 100.0, 20, 99.0, 2.4, 0.1, 3)  # side 0: refused when checked
    with pytest.raises(ExecutionError):
        ClosedTrade(*bad)
    assert trusted_maker(ClosedTrade)(*bad).side == 0
