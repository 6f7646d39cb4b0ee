"""Market data: event types, simulators and replay of recorded data."""
