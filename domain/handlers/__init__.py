"""The use cases, one module per area; importing the package registers them."""

from domain.handlers import advice, exchanges, goals, measures, members, programmes

__all__ = ["advice", "exchanges", "goals", "measures", "members", "programmes"]
