"""Typed identifiers with one parser and one formatter each."""

from __future__ import annotations

import enum
from typing import NewType

__all__ = [
    "ConditionId",
    "InstrumentId",
    "InvalidIdError",
    "TokenId",
    "Venue",
    "parse_condition_id",
    "parse_instrument_id",
    "parse_token_id",
]

TokenId = NewType("TokenId", str)
"""An outcome token: Polymarket's 256-bit decimal ERC-1155 id, kept as its decimal string."""

ConditionId = NewType("ConditionId", str)
"""A binary market: Polymarket's ``0x``-prefixed hex condition id, lower-cased."""


class InvalidIdError(ValueError):
    """An identifier that does not have the venue's shape."""


class Venue(enum.StrEnum):
    """Where a market or a reference price comes from."""

    POLYMARKET = "polymarket"
    KALSHI = "kalshi"
    BINANCE = "binance"
    POLYMARKET_RTDS = "polymarket-rtds"


_HEX = frozenset("0123456789abcdef")


def parse_token_id(text: str) -> TokenId:
    """Validate a decimal token id (1 to 78 digits, the size of a uint256)."""
    if not (0 < len(text) <= 78 and text.isascii() and text.isdigit()):
        raise InvalidIdError(f"token id must be 1-78 decimal digits, got {text[:90]!r}")
    return TokenId(text)


def parse_condition_id(text: str) -> ConditionId:
    """Validate a ``0x`` hex condition id (up to 32 bytes) and lower-case it."""
    body = text[2:].lower()
    if not (text[:2] in ("0x", "0X") and 0 < len(body) <= 64 and _HEX.issuperset(body)):
        raise InvalidIdError(f"condition id must be 0x + up to 64 hex digits, got {text[:90]!r}")
    return ConditionId("0x" + body)


class InstrumentId:
    """A tradable instrument: a venue plus that venue's token id.

    Formats as ``venue:token`` and parses back with :func:`parse_instrument_id`.
    """

    __slots__ = ("token", "venue")

    def __init__(self, venue: Venue, token: TokenId) -> None:
        self.venue = venue
        self.token = token

    def __str__(self) -> str:
        return f"{self.venue.value}:{self.token}"

    def __repr__(self) -> str:
        return f"InstrumentId({self})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InstrumentId):
            return NotImplemented
        return self.venue == other.venue and self.token == other.token

    def __hash__(self) -> int:
        return hash((self.venue, self.token))


def parse_instrument_id(text: str) -> InstrumentId:
    """Parse ``venue:token`` as produced by ``str(InstrumentId)``."""
    venue_text, sep, token_text = text.partition(":")
    if not sep:
        raise InvalidIdError(f"instrument id must look like 'venue:token', got {text!r}")
    try:
        venue = Venue(venue_text)
    except ValueError as e:
        raise InvalidIdError(f"unknown venue {venue_text!r} in {text!r}") from e
    return InstrumentId(venue, parse_token_id(token_text))
