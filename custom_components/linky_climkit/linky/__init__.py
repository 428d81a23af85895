"""Linky: Conso API meters (PRM), scheduled and budgeted."""
