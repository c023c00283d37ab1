"""The local order book: Kraken's CRC32 checksum vector, level maintenance, truncation."""

from __future__ import annotations

import zlib

import pytest

from papertape.engine.feeds.kraken.book import OrderBook
from papertape.engine.feeds.kraken.protocol import (
    BookData,
    BookLevel,
    BookMessage,
    level_token,
    parse_message,
)
from tests.engine.live.conftest import kraken_text

KRAKEN_VECTOR = 3310070434  # Kraken's checksum of book_snapshot.json (its v2 docs)


def level(price: str, qty: str) -> BookLevel:
    return BookLevel(float(price), float(qty), price, qty, level_token(price, qty))


def snapshot_book() -> tuple[OrderBook, BookData]:
    msg = parse_message(kraken_text("book_snapshot"))
    assert isinstance(msg, BookMessage) and msg.snapshot
    (data,) = msg.items
    book = OrderBook(data.symbol, depth=10)
    book.apply_snapshot(data.bids, data.asks, data.time)
    return book, data


def test_shipped_snapshot_gives_krakens_checksum() -> None:
    book, data = snapshot_book()
    assert data.checksum == KRAKEN_VECTOR
    assert book.checksum() == KRAKEN_VECTOR


def test_checksum_uses_the_wire_text_not_the_float() -> None:
    # 0.10000000 and 0.1 are the same float; Kraken's CRC32 covers the eight decimals sent.
    book, _ = snapshot_book()
    first_ask = book.asks[0]
    assert first_ask.qty_text == "0.00100000" and first_ask.token == "452852100000"
    shortened = level(first_ask.price_text, "0.001")
    book.apply_update([], [shortened])
    assert book.asks[0].qty == first_ask.qty
    assert book.checksum() != KRAKEN_VECTOR


def test_checksum_string_is_asks_low_to_high_then_bids_high_to_low() -> None:
    book, _ = snapshot_book()
    text = "".join(lv.token for lv in book.asks) + "".join(lv.token for lv in book.bids)
    assert text.startswith("452852100000" + "452864154571953")  # best asks first
    assert zlib.crc32(text.encode()) == KRAKEN_VECTOR
    assert [lv.price for lv in book.asks] == sorted(lv.price for lv in book.asks)
    assert [lv.price for lv in book.bids] == sorted((lv.price for lv in book.bids), reverse=True)


def test_update_inserts_replaces_deletes_and_truncates_to_depth() -> None:
    book, _ = snapshot_book()
    best_bid = book.bids[0].price
    # a better bid enters: the 11th bid falls out of the depth-10 book (no qty 0 is sent)
    worst = book.bids[-1].price
    book.apply_update([level("45284.0", "2.00000000")], [])
    assert book.bids[0].price == 45284.0 and book.bids[1].price == best_bid
    assert len(book.bids) == 10 and worst not in [lv.price for lv in book.bids]
    # replace a level's size, then delete it with qty 0
    book.apply_update([level("45284.0", "3.50000000")], [])
    assert book.bids[0].qty == 3.5 and len(book.bids) == 10
    book.apply_update([level("45284.0", "0.00000000")], [])
    assert book.bids[0].price == best_bid and len(book.bids) == 9
    # deleting a price that is not there changes nothing
    before = book.checksum()
    book.apply_update([], [level("1.0", "0")])
    assert book.checksum() == before


def test_top_of_book_and_validity() -> None:
    book = OrderBook("X", depth=10)
    assert book.top() is None and not book.valid
    book.apply_snapshot([level("99.5", "2.0")], [level("100.5", "1.0")])
    top = book.top()
    assert top is not None
    assert (top.bid, top.bid_size, top.ask, top.ask_size) == (99.5, 2.0, 100.5, 1.0)
    assert top.mid == 100.0 and top.spread == 1.0
    assert not book.valid  # valid only once a caller verified the checksum


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="depth"):
        OrderBook("X", depth=0)
