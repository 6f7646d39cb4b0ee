"""The order book: snapshots, deltas, top-of-book on books with and without depth, against brute force."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

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


SNAPSHOT = BookUpdate(0, "X", ((100.0, 1.0), (99.5, 2.0), (99.0, 4.0)), ((100.5, 1.0), (101.0, 2.0), (102.0, 4.0)),
                      True)

prices = st.integers(1, 40).map(lambda tick: 90.0 + 0.5 * tick)
levels = st.lists(st.tuples(prices, st.sampled_from([0.0, 0.0, 0.5, 1.0, 3.0])), max_size=8)
book_updates = st.builds(lambda bids, asks, is_snapshot: BookUpdate(0, "X", tuple(bids), tuple(asks), is_snapshot),
                         levels, levels, st.booleans())
tops = st.builds(lambda bid, spread, bid_size, ask_size: TopOfBook(0, "X", bid, bid_size, bid + spread, ask_size),
                 prices, st.sampled_from([0.5, 1.0, 4.0]), st.sampled_from([0.0, 1.0]), st.sampled_from([0.0, 2.0]))


def _apply_by_brute_force(book: dict[int, dict[float, float]], event: BookUpdate | TopOfBook,
                          has_depth: bool) -> None:
    """Apply ``event`` to plain price -> size maps by the rules of the module docstring."""
    if isinstance(event, TopOfBook):
        if not has_depth:
            book[-1], book[1] = {}, {}
        book[-1] = {price: size for price, size in book[-1].items() if price < event.bid_usd}
        book[1] = {price: size for price, size in book[1].items() if price > event.ask_usd}
        book[-1][event.bid_usd], book[1][event.ask_usd] = event.bid_size_coin, event.ask_size_coin
        return
    if event.is_snapshot:
        book[-1], book[1] = {}, {}
    for side, changes in ((-1, event.bids), (1, event.asks)):
        for price, size in changes:
            if size > 0.0:
                book[side][price] = size
            else:
                book[side].pop(price, None)


@settings(max_examples=200)
@given(st.lists(st.one_of(book_updates, tops), min_size=1, max_size=30))
def test_book_matches_brute_force_after_any_updates_and_tops(events: list[BookUpdate | TopOfBook]) -> None:
    book, reference = OrderBook(), {-1: {}, 1: {}}
    for event in events:
        _apply_by_brute_force(reference, event, book.has_depth)
        book.apply(event)
        assert book.best_bid_usd == max(reference[-1], default=None)
        assert book.best_ask_usd == min(reference[1], default=None)
        assert book.levels(-1) == sorted(reference[-1].items(), reverse=True)
        assert book.levels(1) == sorted(reference[1].items())
        assert book.level_count() == (len(reference[-1]), len(reference[1]))


def test_a_snapshot_replaces_the_whole_book() -> None:
    book = OrderBook()
    book.apply(BookUpdate(0, "X", ((50.0, 1.0),), ((200.0, 1.0),), False))
    book.apply(SNAPSHOT)
    assert (book.best_bid_usd, book.best_ask_usd, book.level_count()) == (100.0, 100.5, (3, 3))


def test_a_delta_deleting_through_the_other_side_leaves_the_book_uncrossed() -> None:
    book = OrderBook()
    book.apply(SNAPSHOT)
    book.apply(BookUpdate(1, "X", ((100.75, 2.0), (100.0, 0.0)), ((100.5, 0.0), (101.0, 0.5)), False))
    assert (book.best_bid_usd, book.best_ask_usd) == (100.75, 101.0) and not book.is_crossed
    book.apply(BookUpdate(2, "X", ((101.0, 1.0),), (), False))
    assert book.is_crossed


def test_depth_within_bps_counts_levels_inside_the_band_around_the_mid() -> None:
    book = OrderBook()
    book.apply(SNAPSHOT)
    assert book.mid_usd == 100.25
    assert book.depth_within_bps(1.0) == (0.0, 0.0)
    assert book.depth_within_bps(50.0) == (1.0, 1.0)
    assert book.depth_within_bps(100.0) == (3.0, 3.0)
    assert book.depth_within_bps(1_000.0) == (7.0, 7.0)
    assert OrderBook().depth_within_bps(10.0) == (0.0, 0.0)


def test_many_deletions_of_the_best_level_keep_the_heap_small_and_right() -> None:
    book = OrderBook()
    for tick in range(2_000):
        price = 100.0 + tick
        book.apply(BookUpdate(tick, "X", ((price, 1.0), (price - 1.0, 0.0)), (), False))
        assert book.best_bid_usd == price
    assert book.level_count() == (1, 0) and len(book._bids._heap) <= 8
