"""Money as colift shows it: integer fen written as yuan, exact (no float on the way)."""

from __future__ import annotations


def yuan(fen: int) -> str:
    """¥12,345.67 for 1234567 fen; -¥3,000.00 for -300000."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"
