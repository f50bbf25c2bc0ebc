"""Positions, cash and PnL: an exact ledger of fills, marks and settlements.

Accounting is **average cost**. A fill that adds to a position adds its cash to the position's
cost basis; a fill that reduces it releases ``basis x closed / held`` (floored to the
micro-unit; the whole basis when the position closes) and books ``proceeds - released`` as
realized PnL. A fill larger than the position closes it and opens the other way with the rest.
Positions are signed (a venue that cannot short never produces a negative one; risk refuses
sells beyond what is held).

Money is integer micro-units (USD). The cash leg of a fill is ``price x size`` truncated to the
micro-unit (exact for venue-valid sizes: 0.01-share sizes on ticks >= 0.0001). Fees are paid in
cash, apart from realized PnL, so for any sequence of fills, settlements and marks::

    cash + market value == starting cash + realized + unrealized - fees      (exactly)

Settlement pays ``payout x shares`` (1 per share to the winning token, 0 to the others) and
closes the positions; redemption costs no fee.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType

import msgspec

from prediction_engine.core.events import MarketResolved, Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.numbers import ONE

__all__ = ["Fill", "Portfolio", "Position", "Valuation"]


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    """One execution of one of our orders; ``fee`` is what we paid, in micro-units."""

    market: ConditionId
    token: TokenId
    side: Side
    price: int
    size: int
    fee: int = 0
    ts_ns: int = 0
    client_id: str = ""
    trade_id: str = ""

    def __post_init__(self) -> None:
        if self.size <= 0 or not 0 <= self.price <= ONE or self.fee < 0:
            raise ValueError(f"fill needs size > 0, price in [0, 1] and fee >= 0: {self!r}")

    @property
    def notional(self) -> int:
        """Cash paid (BUY) or received (SELL) before fees, micro-units."""
        return self.price * self.size // ONE


class Position(msgspec.Struct, frozen=True, kw_only=True):
    """Holdings of one token: signed ``shares``, signed cost ``basis`` and what it has earned."""

    market: ConditionId
    token: TokenId
    shares: int = 0
    basis: int = 0
    realized: int = 0
    fees: int = 0

    @property
    def average_price(self) -> Decimal | None:
        """Basis per share as an exact price (``None`` when flat)."""
        if not self.shares:
            return None
        return Decimal(self.basis) / Decimal(self.shares)

    def value(self, price: int) -> int:
        """Market value at ``price`` (micro-units per share), floored to the micro-unit."""
        return self.shares * price // ONE


class Valuation(msgspec.Struct, frozen=True, kw_only=True):
    """A portfolio marked to market. ``unmarked`` tokens had no price and count at cost."""

    cash: int
    market_value: int
    realized: int
    unrealized: int
    fees: int
    unmarked: tuple[TokenId, ...] = ()

    @property
    def equity(self) -> int:
        """Cash plus marked positions."""
        return self.cash + self.market_value


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


class Portfolio:
    """Cash and positions of one account. The engine owns it; everyone else reads views."""

    __slots__ = ("_positions", "cash", "fees", "realized", "starting_cash")

    def __init__(self, cash: int) -> None:
        self.starting_cash = cash
        self.cash = cash
        self.realized = 0
        self.fees = 0
        self._positions: dict[TokenId, Position] = {}

    @classmethod
    def restore(
        cls, starting_cash: int, cash: int, realized: int, fees: int, positions: Iterable[Position]
    ) -> Portfolio:
        """Rebuild a portfolio from its ledger (a journal snapshot)."""
        portfolio = cls(starting_cash)
        portfolio.cash, portfolio.realized, portfolio.fees = cash, realized, fees
        portfolio._positions = {p.token: p for p in positions}
        return portfolio

    @property
    def positions(self) -> Mapping[TokenId, Position]:
        """Every token ever traded, flat ones included (they keep their realized PnL)."""
        return MappingProxyType(self._positions)

    def position(self, token: TokenId) -> Position | None:
        """Return the position in ``token``, or ``None`` if it was never traded."""
        return self._positions.get(token)

    def shares(self, token: TokenId) -> int:
        """Return the signed shares held of ``token`` (0 if none)."""
        position = self._positions.get(token)
        return position.shares if position else 0

    def apply_fill(self, fill: Fill) -> Position:
        """Book one fill and return the token's new position."""
        old = self._positions.get(fill.token) or Position(market=fill.market, token=fill.token)
        direction = 1 if fill.side is Side.BUY else -1
        cost = direction * fill.notional
        shares, basis, realized = old.shares, old.basis, 0
        if shares and _sign(shares) != direction:
            closed = min(fill.size, abs(shares))
            closed_cost = cost if closed == fill.size else cost * closed // fill.size
            released = basis if closed == abs(shares) else basis * closed // abs(shares)
            realized = -closed_cost - released
            shares, basis = shares + direction * closed, basis - released
            cost -= closed_cost
            opened = fill.size - closed
        else:
            opened = fill.size
        if opened:
            shares, basis = shares + direction * opened, basis + cost
        new = msgspec.structs.replace(
            old,
            shares=shares,
            basis=basis,
            realized=old.realized + realized,
            fees=old.fees + fill.fee,
        )
        self._positions[fill.token] = new
        self.cash -= direction * fill.notional + fill.fee
        self.realized += realized
        self.fees += fill.fee
        return new

    def settle(self, payouts: Mapping[TokenId, int]) -> int:
        """Close every held token in ``payouts`` at its payout per share; return cash received."""
        received = 0
        for token, payout in payouts.items():
            old = self._positions.get(token)
            if old is None or not old.shares:
                continue
            proceeds = old.value(payout)
            self._positions[token] = msgspec.structs.replace(
                old, shares=0, basis=0, realized=old.realized + proceeds - old.basis
            )
            self.realized += proceeds - old.basis
            self.cash += proceeds
            received += proceeds
        return received

    def resolve(self, event: MarketResolved) -> int:
        """Settle a resolved market: the winning token pays 1 per share, the others 0."""
        return self.settle({t: ONE if t == event.winning_token else 0 for t in event.tokens})

    def mark(self, prices: Mapping[TokenId, int]) -> Valuation:
        """Value every open position at ``prices`` (micro-units per share)."""
        market_value = unrealized = 0
        unmarked: list[TokenId] = []
        for token, position in self._positions.items():
            if not position.shares:
                continue
            price = prices.get(token)
            if price is None:
                unmarked.append(token)
                value = position.basis
            else:
                value = position.value(price)
            market_value += value
            unrealized += value - position.basis
        return Valuation(
            cash=self.cash,
            market_value=market_value,
            realized=self.realized,
            unrealized=unrealized,
            fees=self.fees,
            unmarked=tuple(unmarked),
        )

    def open_positions(self) -> Iterable[Position]:
        """Yield the positions that hold shares."""
        return (p for p in self._positions.values() if p.shares)
