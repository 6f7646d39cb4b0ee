"""A simulated exchange that behaves like a real one: an L2 book from market data, our orders in it.

- ``matching.py``: the matching engine of one instrument, pure and synchronous:
  price-time priority, queue positions behind the public book, self-trade prevention.
- ``units.py``: market data's USD and coin into price ticks and contracts.
- ``accounting.py``, ``accounts.py``: exact contract arithmetic, and each account's
  balances, positions, realised P&L and funding.
- ``margin.py``, ``risk.py``: margin requirements, equity, the margin check of an
  order, reduce-only, the accounts under maintenance.
- ``latency.py``: requests in flight to the matching engine.
- ``working_order.py``: an order as the exchange holds it.
- ``exchange.py``: ``ExchangeCore``, the synchronous exchange a backtest drives.
- ``streams.py``, ``venue.py``: ``SimulatedExchange``, the asynchronous ``Venue``.
- ``config.py``: ``SimulatedExchangeConfig``.
"""
