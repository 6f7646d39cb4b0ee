"""hedgekeeper: keep a crypto-derivatives portfolio's risk inside its bands.

The package is split by stage (see ``ARCHITECTURE.md``): ``pricing`` holds pure
option mathematics on NumPy arrays, ``portfolio`` turns positions into risk.
"""

__version__ = "0.1.0"
