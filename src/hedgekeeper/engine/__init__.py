"""The event loop, its clocks, the decision records, persistence and recovery."""
