"""Exact decimal units and date formats of the Polymarket wire (pure).

Prices and sizes are integers in micro-units (1e-6), the venue's on-chain resolution.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

import msgspec

MICRO = 1_000_000

# Every level of a book is rendered again whenever the book changes, so the same prices and
# resting sizes are formatted over and over; a bounded memo keeps the hot ones (for a lone
# int argument the C lru_cache uses the int itself as the key, so a hit is cheap).
_MEMO_SIZE = 1 << 16

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def encode(payload: object) -> bytes:
    """Serialize compactly, Decimals as JSON numbers."""
    return _ENCODER.encode(payload)


@lru_cache(maxsize=_MEMO_SIZE)
def fmt(value: int) -> str:
    """Render micro-units as the venue's decimal string: 510000 -> "0.51", 0 -> "0"."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), MICRO)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:06d}".rstrip("0")


@lru_cache(maxsize=_MEMO_SIZE)
def fmt_fixed(value: int, decimals: int) -> str:
    """Render micro-units with exactly `decimals` places ("0.920"), as book last_trade_price."""
    whole, frac = divmod(value, MICRO)
    return f"{whole}.{frac:06d}"[: len(str(whole)) + 1 + decimals]


def number(value: int) -> Decimal:
    """Micro-units as an exact JSON number (Gamma's numeric fields)."""
    return Decimal(fmt(value))


def parse(text: str) -> int:
    """Parse a decimal string into micro-units; raise ValueError if finer than 1e-6."""
    scaled = Decimal(text) * MICRO
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{text!r} is finer than 1e-6")
    return int(scaled)


@lru_cache(maxsize=64)
def decimals_of(tick: int) -> int:
    """Decimal places of a tick size given in micro-units (10000 -> 2)."""
    return len(fmt(tick).partition(".")[2])


def iso(ts_s: int, micros: int | None = None) -> str:
    """ISO-8601 UTC as Gamma writes it: "2026-03-12T09:25:00Z" or with microseconds."""
    moment = datetime.fromtimestamp(ts_s, UTC)
    if micros is None:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}Z"
