"""Backtests: the engine run over history or simulations; metrics, storage and reports."""
