"""Pre-trade risk checks: limits, venue rules and the kill switch, as one ordered rule table.

:func:`check` returns :class:`Approved` or the first :class:`Rejected` (reason + detail);
:func:`violations` returns every rule the intent breaks. Rules, in order:

1. ``KILL_SWITCH``: the switch is engaged; every new order is refused.
2. ``DAILY_LOSS_LIMIT``: today's PnL (realized + unrealized - fees since the day started) is at
   or below ``-max_daily_loss``; every new order is refused.
3. Venue rules: ``UNKNOWN_INSTRUMENT`` (no view of the token), ``MARKET_CLOSED``, ``OFF_TICK``
   (``tick <= price <= 1 - tick`` on the grid), ``OFF_SIZE_STEP`` (0.01 shares),
   ``BELOW_MIN_SIZE`` (resting GTC/GTD orders: the venue's minimum, 5 shares by default),
   ``BELOW_MIN_NOTIONAL`` (marketable orders, FOK/FAK always: $1), ``POST_ONLY_WOULD_CROSS``.
4. Balances: ``INSUFFICIENT_CASH`` (BUY: cash minus open BUYs, fees included) and
   ``INSUFFICIENT_POSITION`` (SELL: shares held minus open SELLs; no naked shorts).
5. Limits: ``MAX_OPEN_ORDERS`` (all markets), ``MAX_ORDERS_PER_MARKET`` (open orders in the
   intent's market), ``COOLDOWN`` (since our last order in the market),
   ``MAX_POSITION_PER_MARKET`` and ``MAX_TOTAL_EXPOSURE`` (USD at risk, BUY only: a SELL of held
   shares only lowers it).

USD at risk = the cost basis of long positions (the most they can lose) plus the notional of
open and proposed BUYs. Money and sizes are micro-units; times integer nanoseconds.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import msgspec

from prediction_engine.core.events import Side
from prediction_engine.core.fees import taker_fee
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import ONE, format_micro
from prediction_engine.core.orders import Order, OrderIntent, TimeInForce, is_marketable
from prediction_engine.core.portfolio import Position

__all__ = [
    "Approved",
    "Decision",
    "InstrumentView",
    "KillSwitch",
    "RejectReason",
    "Rejected",
    "RiskLimits",
    "RiskState",
    "buy_room",
    "check",
    "halt_reason",
    "violations",
]


class RejectReason(enum.StrEnum):
    """Why risk said no (our no, not the venue's)."""

    KILL_SWITCH = "KILL_SWITCH"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    UNKNOWN_INSTRUMENT = "UNKNOWN_INSTRUMENT"
    MARKET_CLOSED = "MARKET_CLOSED"
    OFF_TICK = "OFF_TICK"
    OFF_SIZE_STEP = "OFF_SIZE_STEP"
    BELOW_MIN_SIZE = "BELOW_MIN_SIZE"
    BELOW_MIN_NOTIONAL = "BELOW_MIN_NOTIONAL"
    POST_ONLY_WOULD_CROSS = "POST_ONLY_WOULD_CROSS"
    INSUFFICIENT_CASH = "INSUFFICIENT_CASH"
    INSUFFICIENT_POSITION = "INSUFFICIENT_POSITION"
    MAX_OPEN_ORDERS = "MAX_OPEN_ORDERS"
    MAX_ORDERS_PER_MARKET = "MAX_ORDERS_PER_MARKET"
    COOLDOWN = "COOLDOWN"
    MAX_POSITION_PER_MARKET = "MAX_POSITION_PER_MARKET"
    MAX_TOTAL_EXPOSURE = "MAX_TOTAL_EXPOSURE"


class RiskLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Hard limits (money in micro-units of USD, sizes in micro-shares, times in ns)."""

    max_position_per_market: int = 100 * ONE
    max_total_exposure: int = 500 * ONE
    max_orders_per_market: int = 4
    max_open_orders: int = 20
    cooldown_ns: int = 1_000_000_000
    max_daily_loss: int = 50 * ONE
    halt_on_daily_loss: bool = True
    min_order_size: int = 5 * ONE
    min_marketable_notional: int = ONE
    size_step: int = ONE // 100

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if not isinstance(value, bool) and value < 0:
                raise ValueError(f"risk limit {name} must be >= 0, got {value}")
        if self.size_step <= 0:
            raise ValueError(f"risk limit size_step must be > 0, got {self.size_step}")


class KillSwitch(msgspec.Struct, frozen=True, kw_only=True):
    """Halt flag. Engaged: refuse every new order; the engine cancels all open orders."""

    engaged: bool = False
    reason: str = ""
    since_ns: int | None = None

    def engage(self, reason: str, now_ns: int) -> KillSwitch:
        """Return the engaged switch (keeps the first reason if already engaged)."""
        if self.engaged:
            return self
        return KillSwitch(engaged=True, reason=reason, since_ns=now_ns)

    def release(self) -> KillSwitch:
        """Return a released switch (an operator's decision, never automatic)."""
        return KillSwitch()


@dataclass(frozen=True, slots=True, kw_only=True)
class InstrumentView:
    """What risk needs to know about one token: the venue's rules and its top of book."""

    tick_size: int
    min_order_size: int | None = None
    best_bid: int | None = None
    best_ask: int | None = None
    accepting_orders: bool = True
    fee_schedule: FeeSchedule | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskState:
    """Read-only view of the engine's state. ``open_orders`` may include closed ones (ignored)."""

    cash: int
    positions: Mapping[TokenId, Position]
    open_orders: Sequence[Order]
    instruments: Mapping[TokenId, InstrumentView]
    last_order_ns: Mapping[ConditionId, int] = field(default_factory=dict)
    daily_pnl: int = 0
    kill_switch: KillSwitch = field(default_factory=KillSwitch)


class Approved(msgspec.Struct, frozen=True, kw_only=True):
    """The intent passed every rule."""

    intent: OrderIntent


class Rejected(msgspec.Struct, frozen=True, kw_only=True):
    """The intent broke a rule: ``reason`` for machines, ``detail`` for people."""

    intent: OrderIntent
    reason: RejectReason
    detail: str


Decision = Approved | Rejected


@dataclass(frozen=True, slots=True)
class _Context:
    intent: OrderIntent
    state: RiskState
    limits: RiskLimits
    now_ns: int
    view: InstrumentView | None
    open_orders: tuple[Order, ...]


def _usd(micro: int) -> str:
    return "$" + format_micro(micro)


def _crosses(c: _Context) -> bool:
    v = c.view
    return v is not None and is_marketable(c.intent.side, c.intent.price, v.best_bid, v.best_ask)


def _marketable(c: _Context) -> bool:
    return c.intent.time_in_force in (TimeInForce.FOK, TimeInForce.FAK) or _crosses(c)


def _buy_cost(size: int, price: int, post_only: bool, schedule: FeeSchedule | None) -> int:
    """Cash a BUY can take: notional plus the taker fee it would pay if it took."""
    fee = 0 if post_only else taker_fee(size, price, schedule)
    return price * size // ONE + fee


def _schedule(state: RiskState, token: TokenId) -> FeeSchedule | None:
    view = state.instruments.get(token)
    return view.fee_schedule if view else None


def _reserved_cash(state: RiskState, orders: Sequence[Order]) -> int:
    """Cash the open BUYs may still take, fees included."""
    return sum(
        _buy_cost(o.remaining, o.price, o.post_only, _schedule(state, o.token))
        for o in orders
        if o.is_open and o.side is Side.BUY
    )


def _at_risk(position: Position) -> int:
    """The most a position can lose: its cost if long, payouts minus proceeds if short."""
    return position.basis if position.shares >= 0 else position.basis - position.shares


def _exposure(
    positions: Mapping[TokenId, Position], orders: Sequence[Order], market: ConditionId | None
) -> int:
    """USD at risk in ``market`` (all markets when ``None``) from positions and open BUYs."""
    held = sum(_at_risk(p) for p in positions.values() if market in (None, p.market))
    buys = sum(
        o.remaining * o.price // ONE
        for o in orders
        if o.is_open and o.side is Side.BUY and market in (None, o.market)
    )
    return held + buys


def _kill_switch(c: _Context) -> str | None:
    switch = c.state.kill_switch
    return f"kill switch engaged: {switch.reason or 'no reason given'}" if switch.engaged else None


def _daily_loss(c: _Context) -> str | None:
    if c.state.daily_pnl > -c.limits.max_daily_loss:
        return None
    pnl, limit = _usd(c.state.daily_pnl), _usd(c.limits.max_daily_loss)
    return f"daily PnL {pnl} breaches the loss limit {limit}"


def _unknown_instrument(c: _Context) -> str | None:
    return None if c.view else f"no market data or rules for token {c.intent.token}"


def _market_closed(c: _Context) -> str | None:
    return "market is not accepting orders" if c.view and not c.view.accepting_orders else None


def _off_tick(c: _Context) -> str | None:
    if c.view is None:
        return None
    tick, price = c.view.tick_size, c.intent.price
    if price % tick == 0 and tick <= price <= ONE - tick:
        return None
    return f"price {format_micro(price)} is not on the {format_micro(tick)} grid inside (0, 1)"


def _off_size_step(c: _Context) -> str | None:
    step = c.limits.size_step
    if c.intent.size % step == 0:
        return None
    return f"size {format_micro(c.intent.size)} is not a multiple of {format_micro(step)} shares"


def _below_min_size(c: _Context) -> str | None:
    if c.view is None or c.intent.time_in_force not in (TimeInForce.GTC, TimeInForce.GTD):
        return None
    minimum = c.view.min_order_size or c.limits.min_order_size
    if c.intent.size >= minimum:
        return None
    return f"size {format_micro(c.intent.size)} below the minimum {format_micro(minimum)} shares"


def _below_min_notional(c: _Context) -> str | None:
    if not _marketable(c) or c.intent.notional >= c.limits.min_marketable_notional:
        return None
    minimum = _usd(c.limits.min_marketable_notional)
    return f"marketable order of {_usd(c.intent.notional)} below the venue minimum {minimum}"


def _post_only_crosses(c: _Context) -> str | None:
    if not (c.intent.post_only and _crosses(c)):
        return None
    return f"post-only {c.intent.side} at {format_micro(c.intent.price)} would take liquidity"


def _insufficient_cash(c: _Context) -> str | None:
    intent = c.intent
    if intent.side is not Side.BUY:
        return None
    cost = _buy_cost(intent.size, intent.price, intent.post_only, _schedule(c.state, intent.token))
    free = c.state.cash - _reserved_cash(c.state, c.open_orders)
    return None if cost <= free else f"BUY needs {_usd(cost)}, free cash {_usd(free)}"


def _insufficient_position(c: _Context) -> str | None:
    intent = c.intent
    if intent.side is not Side.SELL:
        return None
    position = c.state.positions.get(intent.token)
    free = (position.shares if position else 0) - sum(
        o.remaining for o in c.open_orders if o.side is Side.SELL and o.token == intent.token
    )
    if intent.size <= free:
        return None
    return f"SELL of {format_micro(intent.size)} shares, {format_micro(free)} free to sell"


def _max_open_orders(c: _Context) -> str | None:
    count, limit = len(c.open_orders), c.limits.max_open_orders
    return None if count < limit else f"{count} open orders, limit {limit}"


def _max_orders_per_market(c: _Context) -> str | None:
    count = sum(1 for o in c.open_orders if o.market == c.intent.market)
    limit = c.limits.max_orders_per_market
    return None if count < limit else f"{count} open orders in this market, limit {limit}"


def _cooldown(c: _Context) -> str | None:
    last = c.state.last_order_ns.get(c.intent.market)
    if last is None or c.now_ns - last >= c.limits.cooldown_ns:
        return None
    return f"last order in this market {c.now_ns - last} ns ago, cooldown {c.limits.cooldown_ns} ns"


def _exposure_after(c: _Context, market: ConditionId | None, limit: int) -> str | None:
    if c.intent.side is not Side.BUY:
        return None
    after = _exposure(c.state.positions, c.open_orders, market) + c.intent.notional
    scope = "total" if market is None else "market"
    return (
        None if after <= limit else f"{scope} exposure would be {_usd(after)}, limit {_usd(limit)}"
    )


def _max_position(c: _Context) -> str | None:
    return _exposure_after(c, c.intent.market, c.limits.max_position_per_market)


def _max_exposure(c: _Context) -> str | None:
    return _exposure_after(c, None, c.limits.max_total_exposure)


_R = RejectReason
_RULES: tuple[tuple[RejectReason, Callable[[_Context], str | None]], ...] = (
    (_R.KILL_SWITCH, _kill_switch),
    (_R.DAILY_LOSS_LIMIT, _daily_loss),
    (_R.UNKNOWN_INSTRUMENT, _unknown_instrument),
    (_R.MARKET_CLOSED, _market_closed),
    (_R.OFF_TICK, _off_tick),
    (_R.OFF_SIZE_STEP, _off_size_step),
    (_R.BELOW_MIN_SIZE, _below_min_size),
    (_R.BELOW_MIN_NOTIONAL, _below_min_notional),
    (_R.POST_ONLY_WOULD_CROSS, _post_only_crosses),
    (_R.INSUFFICIENT_CASH, _insufficient_cash),
    (_R.INSUFFICIENT_POSITION, _insufficient_position),
    (_R.MAX_OPEN_ORDERS, _max_open_orders),
    (_R.MAX_ORDERS_PER_MARKET, _max_orders_per_market),
    (_R.COOLDOWN, _cooldown),
    (_R.MAX_POSITION_PER_MARKET, _max_position),
    (_R.MAX_TOTAL_EXPOSURE, _max_exposure),
)
"""Every rule, in the order :func:`check` applies them."""


def _broken(
    intent: OrderIntent, state: RiskState, limits: RiskLimits, now_ns: int
) -> Iterator[Rejected]:
    open_orders = tuple(o for o in state.open_orders if o.is_open)
    c = _Context(intent, state, limits, now_ns, state.instruments.get(intent.token), open_orders)
    for reason, rule in _RULES:
        detail = rule(c)
        if detail is not None:
            yield Rejected(intent=intent, reason=reason, detail=detail)


def violations(
    intent: OrderIntent, state: RiskState, limits: RiskLimits, now_ns: int
) -> list[Rejected]:
    """Return every rule ``intent`` breaks, in rule order (empty when it may be sent)."""
    return list(_broken(intent, state, limits, now_ns))


def check(intent: OrderIntent, state: RiskState, limits: RiskLimits, now_ns: int) -> Decision:
    """Approve ``intent`` or reject it with the first rule it breaks."""
    return next(_broken(intent, state, limits, now_ns), Approved(intent=intent))


def halt_reason(state: RiskState, limits: RiskLimits) -> RejectReason | None:
    """Return why the engine must cancel everything and halt now, or ``None``.

    ``KILL_SWITCH`` when it is engaged; ``DAILY_LOSS_LIMIT`` when the loss limit is breached
    and ``limits.halt_on_daily_loss`` (the engine then engages the switch with that reason).
    """
    if state.kill_switch.engaged:
        return RejectReason.KILL_SWITCH
    if limits.halt_on_daily_loss and state.daily_pnl <= -limits.max_daily_loss:
        return RejectReason.DAILY_LOSS_LIMIT
    return None


def buy_room(state: RiskState, limits: RiskLimits, market: ConditionId) -> int:
    """Return the most a new BUY in ``market`` may spend under the exposure limits and cash.

    Open BUYs reserve their fees. Pass the room to the sizer as ``max_notional`` (its spend
    includes the new order's fee); the order still goes through :func:`check`.
    """
    orders, positions = state.open_orders, state.positions
    room = min(
        limits.max_position_per_market - _exposure(positions, orders, market),
        limits.max_total_exposure - _exposure(positions, orders, None),
        state.cash - _reserved_cash(state, orders),
    )
    return max(room, 0)
