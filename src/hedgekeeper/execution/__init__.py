"""How to trade: fees, book walks and impact, slicing, routing, orders and safety limits."""
