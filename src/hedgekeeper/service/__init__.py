"""The live service: ``hedgekeeper run CONFIG`` (the engine on the wall clock, exchanges, store, API).

- ``config.py``: the service file, validated (``[service]``, ``[api]``, ``[exchange]``, ``[chain]``
  beside a backtest's tables);
- ``credentials.py``: API keys and the API token from the environment or owner-only files;
- ``market_feed.py``: the simulated or recorded market, cut at a time, paced on the clock;
- ``simulated_exchange.py``: the built-in exchange with a journal of its own, rebuilt at a restart;
- ``wiring.py``: the engine, order manager, executor and hedger put together;
- ``order_journal.py``: orders on disk before they are sent; every transition after;
- ``recovery.py``: restored orders, reconciliation with the venues, missed fills, position checks;
- ``controls.py``: pause, kill switch, band changes, and the commands carrying them;
- ``snapshot.py``: the immutable view handed to the API;
- ``metrics.py``: Prometheus metrics;
- ``components.py``: the seam for more parts (the chain);
- ``chain_component.py``: the chain beside the engine: oracle posts by its rule, the pool's
  arbitrage and the keeper's steps on a thread of its own, fed the market's prices;
- ``runtime.py``: ``Service``: start, the engine's thread, recovery, commands, stop;
- ``main.py``: the process: the service and uvicorn, signals, ``--duration``.
"""
