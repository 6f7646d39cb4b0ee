"""The order book: snapshots, deltas, top-of-book on books with and without depth."""

from __future__ import annotations

from hedgekeeper.market.events import BookUpdate, TopOfBook
from hedgekeeper.market.order_book import OrderBook


def test_delta_updates_set_and_delete_levels_and_track_the_best() -> None:
    book = OrderBook()
    book.apply(BookUpdate(0, "X", ((100.0, 1.0), (99.0, 2.0)), ((101.0, 1.0), (102.0, 3.0)), True))
    book.apply(BookUpdate(1, "X", ((100.5, 0.7),), ((101.0, 0.0),), False))
    assert (book.best_bid_usd, book.best_ask_usd) == (100.5, 102.0)
    assert book.levels(-1) == [(100.5, 0.7), (100.0, 1.0), (99.0, 2.0)]
    assert book.levels(+1) == [(102.0, 3.0)]


def test_top_of_book_alone_is_the_whole_book() -> None:
    book = OrderBook()
    book.apply(TopOfBook(0, "X", 99.0, 1.0, 101.0, 2.0))
    book.apply(TopOfBook(1, "X", 99.5, 0.5, 100.5, 0.25))
    assert book.levels(-1) == [(99.5, 0.5)] and book.levels(+1) == [(100.5, 0.25)]
    assert book.mid_usd == 100.0


def test_top_of_book_on_a_deep_book_removes_the_levels_it_crosses() -> None:
    book = OrderBook()
    book.apply(BookUpdate(0, "X", ((100.0, 1.0), (99.0, 2.0)), ((101.0, 1.0), (102.0, 3.0)), True))
    book.apply(TopOfBook(1, "X", 98.5, 4.0, 101.5, 0.5))
    assert book.levels(-1) == [(98.5, 4.0)]
    assert book.levels(+1) == [(101.5, 0.5), (102.0, 3.0)]


def test_empty_side_has_no_mid() -> None:
    book = OrderBook()
    book.apply(BookUpdate(0, "X", ((100.0, 1.0),), (), True))
    assert book.best_ask_usd is None and book.mid_usd is None
