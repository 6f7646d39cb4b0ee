"""When to act: the target risk profile and its bands, triggers, no-trade bands."""
