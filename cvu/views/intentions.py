"""Fiches d'intention and the advice log of porteurs."""
