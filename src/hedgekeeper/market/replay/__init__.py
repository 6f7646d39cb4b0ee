"""Replay of recorded market data: parsers, readers and named scenarios.

Recorded files (``../shared/data``, see ``market/data_dir.py``) become the same
time-ordered ``MarketEvent`` iterators a simulator yields, so the engine's loop
runs over them unchanged. Modules, bottom up:

- ``timestamps``: recorded time formats to int ns, UTC;
- ``reading``: gzip-transparent, row-by-row reading that skips and counts bad rows;
- ``series``: step series (DVOL level, funding marks) read with no look-ahead;
- ``bars`` and ``candles``: candles and their documented synthetic trade path;
- ``binance_capture``: the raw L2 websocket capture, to apply to ``market/order_book.py``'s book;
- ``chainlink``, ``funding``, ``deribit``: oracle rounds, funding, DVOL and option trades;
- ``merge``: a lazy, stable heap merge of streams and a time window;
- ``scenarios``: the registry of named replays.
"""
