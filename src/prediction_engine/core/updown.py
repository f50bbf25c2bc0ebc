"""Crypto Up/Down windows: slugs, window times and the strike (venue-neutral, pure).

A window market ``btc-updown-15m-1773307200`` (or the older ``btc-up-or-down-15m-...``) pays
"Up" when the reference price at the end of the window is at or above the *strike*: the first
reference price at or after the window start. Times are integer nanoseconds.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

import msgspec

from prediction_engine.core.markets import Market

__all__ = [
    "UPDOWN_ASSETS",
    "UPDOWN_INTERVALS",
    "UpDownError",
    "UpDownSlug",
    "UpDownWindow",
    "check_updown",
    "parse_updown_slug",
    "reference_symbol",
    "window_of",
]

NS: Final = 1_000_000_000
UPDOWN_ASSETS: Final = ("btc", "eth", "sol", "xrp")
# Polymarket lists 5m and longer; 1m windows exist on the local simulator (the demo's).
UPDOWN_INTERVALS: Final = {"1m": 60, "5m": 300, "15m": 900, "1h": 3_600, "4h": 14_400}
"""Up/Down window lengths in seconds; windows are aligned to multiples of their length."""

_UPDOWN: Final = re.compile(
    r"^(?P<asset>[a-z0-9]+)-(?:updown|up-or-down)-(?P<interval>\d+[mh])-(?P<start>\d{9,11})$"
)


class UpDownError(ValueError):
    """An asset or interval that has no Up/Down markets."""


def check_updown(asset: str, interval: str) -> None:
    """Raise :class:`UpDownError` unless ``asset`` and ``interval`` are supported."""
    if asset not in UPDOWN_ASSETS:
        raise UpDownError(f"asset must be one of {', '.join(UPDOWN_ASSETS)}, got {asset!r}")
    if interval not in UPDOWN_INTERVALS:
        choices = ", ".join(UPDOWN_INTERVALS)
        raise UpDownError(f"interval must be one of {choices}, got {interval!r}")


class UpDownSlug(msgspec.Struct, frozen=True):
    """A parsed Up/Down slug: ``btc-updown-15m-1773307200`` (or old ``btc-up-or-down-15m-...``)."""

    asset: str
    interval: str
    start_s: int

    @property
    def end_s(self) -> int:
        """The end of the window (exclusive), in unix seconds."""
        return self.start_s + UPDOWN_INTERVALS[self.interval]


def parse_updown_slug(slug: str) -> UpDownSlug | None:
    """Parse either slug form; ``None`` when the slug is not an Up/Down window."""
    match = _UPDOWN.match(slug)
    if match is None or match["interval"] not in UPDOWN_INTERVALS:
        return None
    return UpDownSlug(match["asset"], match["interval"], int(match["start"]))


def reference_symbol(asset: str) -> str:
    """The reference feed symbol of an asset: ``btc`` -> ``btcusdt`` (Binance and RTDS)."""
    return f"{asset.lower()}usdt"


class UpDownWindow(msgspec.Struct, frozen=True, kw_only=True):
    """One window of one Up/Down market; ``strike`` is ``None`` until the window starts."""

    market: Market
    asset: str
    interval: str
    symbol: str
    start_ns: int
    end_ns: int
    strike: Decimal | None = None
    joined_late: bool = False
    """Our feed's first price came after the start: the strike is unknown, do not trade."""

    def time_left_ns(self, now_ns: int) -> int:
        """Nanoseconds until the window ends (0 once it has)."""
        return max(self.end_ns - now_ns, 0)

    def started(self, now_ns: int) -> bool:
        """Whether the window has started."""
        return now_ns >= self.start_ns


def window_of(market: Market) -> UpDownWindow | None:
    """Return the Up/Down window of ``market`` (by its slug or event slug), else ``None``."""
    parsed = parse_updown_slug(market.slug) or parse_updown_slug(market.event_slug or "")
    if parsed is None:
        return None
    return UpDownWindow(
        market=market,
        asset=parsed.asset,
        interval=parsed.interval,
        symbol=reference_symbol(parsed.asset),
        start_ns=parsed.start_s * NS,
        end_ns=parsed.end_s * NS,
    )
