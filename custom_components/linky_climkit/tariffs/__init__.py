"""Tariffs and costs: the pure pricing engine, the stored tariff, the cost statistics."""
