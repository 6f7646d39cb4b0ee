"""The engine's order books seen by instrument id, as executors look them up."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from hedgekeeper.market.order_book import OrderBook


class BooksByInstrument(Mapping[str, OrderBook]):
    """The engine's books (by stream), looked up by instrument id through each instrument's book stream.

    Parameters
    ----------
    books : the engine's order books by stream
    streams : instrument id -> its book's stream; an instrument not listed is its own stream

    >>> book = OrderBook()
    >>> BooksByInstrument({"BTCUSDT": book}, {"BTCUSDT-PERP.BINANCE": "BTCUSDT"})["BTCUSDT-PERP.BINANCE"] is book
    True
    """

    def __init__(self, books: Mapping[str, OrderBook], streams: Mapping[str, str]) -> None:
        self._books, self._streams = books, streams

    def __getitem__(self, instrument_id: str) -> OrderBook:
        return self._books[self._streams.get(instrument_id, instrument_id)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._streams)

    def __len__(self) -> int:
        return len(self._streams)
