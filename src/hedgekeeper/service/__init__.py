"""The live service: ``hedgekeeper run CONFIG`` (the engine on the wall clock, exchanges, store, API).

- ``config.py``: the service file, validated (``[service]``, ``[api]``, ``[exchange]``, ``[chain]``
  beside a backtest's tables);
- ``credentials.py``: API keys and the API token from the environment or owner-only files;
- ``market_feed.py``: the simulated or recorded market, cut at a time, paced on the clock;
- ``simulated_exchange.py``: the built-in exchange with a journal of its own, rebuilt at a restart;
- ``wiring.py``: the engine, order manager, executor and hedger put together;
- ``order_journal.py``: orders on disk before they are sent; every transition after;
- ``recovery.py``: the stored book and bands at start; restored orders, reconciliation with the
  venues, missed fills, position checks;
- ``recording.py``: what the engine recorded (decisions, risk samples, fills) into the store,
  the recent part, counts and costs kept for the API;
- ``controls.py``: pause, kill switch, band changes, the commands carrying them and their execution;
- ``snapshot.py``: the immutable view handed to the API;
- ``publishing.py``: that view built from the engine and the records, the metrics kept in step;
- ``metrics.py``: Prometheus metrics;
- ``components.py``: the seam for more parts (the chain);
- ``chain_component.py``: the chain beside the engine: oracle posts by its rule, the pool's
  arbitrage and the keeper's steps on a thread of its own, fed the market's prices;
- ``runtime.py``: ``Service``: start, the engine's thread, stop (the life cycle, using the above);
- ``main.py``: the process: the service and uvicorn, signals, ``--duration``.
"""
