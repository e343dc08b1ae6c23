"""Money is integer KRW everywhere; this module only formats it."""

from __future__ import annotations


def format_won(amount: int) -> str:
    """Format an integer KRW amount as customers read it, e.g. `31,000원`."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("amounts are integer won, never floats")
    return f"{amount:,}원"
