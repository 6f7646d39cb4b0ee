"""Liquidity venues behind one interface (``base.py``): simulated exchange, ccxt exchanges, AMM pools."""
