"""Exact fixed-point numbers.

Prices, sizes and money are integers in micro-units (1e-6), the venues' on-chain unit
(Polymarket collateral and outcome tokens both have 6 decimals). ``Decimal`` appears only at
the edges (config, display). Never use floats for book keys or cash.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = [
    "ONE",
    "SCALE",
    "FixedPointError",
    "format_micro",
    "micro_to_decimal",
    "parse_micro",
]

SCALE = 1_000_000
"""Micro-units per unit."""

ONE = SCALE
"""1.0 in micro-units: the payout of a winning outcome token per share."""

_PAD = (1_000_000, 100_000, 10_000, 1_000, 100, 10, 1)  # 10 ** (6 - fractional digits)


class FixedPointError(ValueError):
    """Text that is not a non-negative decimal with at most 6 fractional digits."""


def parse_micro(text: str) -> int:
    """Parse a non-negative decimal string (``"0.51"``, ``"219.217767"``, ``".48"``) to micro-units.

    Raises :class:`FixedPointError` for signs, exponents, separators, more than six fractional
    digits or anything else a venue should not send; a silent rounding would corrupt a book.
    """
    whole, _, frac = text.partition(".")
    digits = whole + frac
    # isdigit() alone admits non-ASCII digits ("٣"); isascii() rules them out.
    if len(frac) > 6 or not digits.isdigit() or not digits.isascii():
        raise FixedPointError(f"not an exact 6-decimal amount: {text[:40]!r}")
    return int(digits) * _PAD[len(frac)]


def format_micro(value: int) -> str:
    """Format micro-units as the shortest exact decimal (``510000`` -> ``"0.51"``)."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), SCALE)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:06d}".rstrip("0")


def micro_to_decimal(value: int) -> Decimal:
    """Convert micro-units to an exact ``Decimal``."""
    return Decimal(value).scaleb(-6)
