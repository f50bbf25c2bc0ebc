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

Totals over open orders and positions come from a :class:`RiskSummary` (``risk/summary.py``),
computed once per state. :func:`check` runs the rules inline, then lets the rule table word
the first rejection; :func:`violations` walks the table in full.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import msgspec

from prediction_engine.core.events import Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import ONE, format_micro
from prediction_engine.core.orders import Order, OrderIntent, TimeInForce, is_marketable
from prediction_engine.core.portfolio import Position
from prediction_engine.risk.summary import RiskSummary, buy_cost, summary_of, taker_fee

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
    """Read-only view of the engine's state. ``open_orders`` may include closed ones (ignored).

    ``summary``: the totals of these very collections (:func:`summarize`), computed when
    absent and ignored when of other collections. Collections must not change meanwhile.
    """

    cash: int
    positions: Mapping[TokenId, Position]
    open_orders: Sequence[Order]
    instruments: Mapping[TokenId, InstrumentView]
    last_order_ns: Mapping[ConditionId, int] = field(default_factory=dict)
    daily_pnl: int = 0
    kill_switch: KillSwitch = field(default_factory=KillSwitch)
    summary: RiskSummary | None = None


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
    summary: RiskSummary


def _usd(micro: int) -> str:
    return "$" + format_micro(micro)


def _crosses(c: _Context) -> bool:
    v = c.view
    return v is not None and is_marketable(c.intent.side, c.intent.price, v.best_bid, v.best_ask)


def _marketable(c: _Context) -> bool:
    return c.intent.time_in_force in (TimeInForce.FOK, TimeInForce.FAK) or _crosses(c)


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
    schedule = c.view.fee_schedule if c.view else None
    cost = buy_cost(intent.size, intent.price, intent.post_only, schedule)
    free = c.state.cash - c.summary.reserved_cash
    return None if cost <= free else f"BUY needs {_usd(cost)}, free cash {_usd(free)}"


def _insufficient_position(c: _Context) -> str | None:
    intent = c.intent
    if intent.side is not Side.SELL:
        return None
    position = c.state.positions.get(intent.token)
    free = (position.shares if position else 0) - c.summary.shares_offered.get(intent.token, 0)
    if intent.size <= free:
        return None
    return f"SELL of {format_micro(intent.size)} shares, {format_micro(free)} free to sell"


def _max_open_orders(c: _Context) -> str | None:
    count, limit = c.summary.open_order_count, c.limits.max_open_orders
    return None if count < limit else f"{count} open orders, limit {limit}"


def _max_orders_per_market(c: _Context) -> str | None:
    count = c.summary.market_order_counts.get(c.intent.market, 0)
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
    summary = c.summary
    held = summary.exposure if market is None else summary.market_exposure.get(market, 0)
    after = held + c.intent.notional
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


_FIRST: dict[RejectReason, int] = {reason: i for i, (reason, _) in enumerate(_RULES)}
_TAKING = (TimeInForce.FOK, TimeInForce.FAK)
_RESTING = (TimeInForce.GTC, TimeInForce.GTD)


def _first_broken(
    intent: OrderIntent,
    state: RiskState,
    limits: RiskLimits,
    now_ns: int,
    *,
    view: InstrumentView | None,
    summary: RiskSummary,
) -> RejectReason | None:
    """Return the first rule of :data:`_RULES` that ``intent`` breaks, or ``None``.

    The same tests as the rules, inline and in the same order, without their detail texts:
    one call instead of sixteen closures is most of what makes :func:`check` fast (a basket
    checks every leg on the tick-to-order path). A property test holds the two to agreement.
    """
    if state.kill_switch.engaged:
        return _R.KILL_SWITCH
    if state.daily_pnl <= -limits.max_daily_loss:
        return _R.DAILY_LOSS_LIMIT
    if not view:
        return _R.UNKNOWN_INSTRUMENT
    if not view.accepting_orders:
        return _R.MARKET_CLOSED
    price, size, tick, tif = intent.price, intent.size, view.tick_size, intent.time_in_force
    if not (price % tick == 0 and tick <= price <= ONE - tick):
        return _R.OFF_TICK
    if size % limits.size_step != 0:
        return _R.OFF_SIZE_STEP
    if tif in _RESTING and size < (view.min_order_size or limits.min_order_size):
        return _R.BELOW_MIN_SIZE
    side, notional, post_only = intent.side, price * size // ONE, intent.post_only
    bid, ask = view.best_bid, view.best_ask  # crossing is looked at only when it matters
    if notional < limits.min_marketable_notional and (
        tif in _TAKING or is_marketable(side, price, bid, ask)
    ):
        return _R.BELOW_MIN_NOTIONAL
    if post_only and is_marketable(side, price, bid, ask):
        return _R.POST_ONLY_WOULD_CROSS
    if side is Side.BUY:
        fee = 0 if post_only else taker_fee(size, price, view.fee_schedule)
        if notional + fee > state.cash - summary.reserved_cash:
            return _R.INSUFFICIENT_CASH
    elif side is Side.SELL:
        position = state.positions.get(intent.token)
        held = position.shares if position else 0
        if size > held - summary.shares_offered.get(intent.token, 0):
            return _R.INSUFFICIENT_POSITION
    if summary.open_order_count >= limits.max_open_orders:
        return _R.MAX_OPEN_ORDERS
    market = intent.market
    if summary.market_order_counts.get(market, 0) >= limits.max_orders_per_market:
        return _R.MAX_ORDERS_PER_MARKET
    last = state.last_order_ns.get(market)
    if last is not None and now_ns - last < limits.cooldown_ns:
        return _R.COOLDOWN
    if side is Side.BUY:
        if summary.market_exposure.get(market, 0) + notional > limits.max_position_per_market:
            return _R.MAX_POSITION_PER_MARKET
        if summary.exposure + notional > limits.max_total_exposure:
            return _R.MAX_TOTAL_EXPOSURE
    return None


def _rejections(c: _Context, start: int = 0) -> Iterator[Rejected]:
    for reason, rule in _RULES[start:]:
        detail = rule(c)
        if detail is not None:
            yield Rejected(intent=c.intent, reason=reason, detail=detail)


def violations(
    intent: OrderIntent, state: RiskState, limits: RiskLimits, now_ns: int
) -> list[Rejected]:
    """Return every rule ``intent`` breaks, in rule order (empty when it may be sent)."""
    view = state.instruments.get(intent.token)
    return list(_rejections(_Context(intent, state, limits, now_ns, view, summary_of(state))))


def check(intent: OrderIntent, state: RiskState, limits: RiskLimits, now_ns: int) -> Decision:
    """Approve ``intent`` or reject it with the first rule it breaks.

    Give ``state`` a summary when checking several intents (``summarize``, ``with_order``).
    """
    view, summary = state.instruments.get(intent.token), summary_of(state)
    broken = _first_broken(intent, state, limits, now_ns, view=view, summary=summary)
    if broken is None:
        return Approved(intent=intent)
    # The rule that broke writes the detail (the rules after it only if the two disagreed).
    c = _Context(intent, state, limits, now_ns, view, summary)
    return next(_rejections(c, _FIRST[broken]), Approved(intent=intent))


def halt_reason(
    kill_switch: KillSwitch, daily_pnl: int, limits: RiskLimits
) -> RejectReason | None:
    """Return why the engine must cancel everything and halt now, or ``None``.

    ``KILL_SWITCH`` when it is engaged; ``DAILY_LOSS_LIMIT`` when the loss limit is breached
    and ``limits.halt_on_daily_loss`` (the engine then engages the switch with that reason).
    Only the switch and the day's PnL matter: the engine's timer asks every tick.
    """
    if kill_switch.engaged:
        return RejectReason.KILL_SWITCH
    if limits.halt_on_daily_loss and daily_pnl <= -limits.max_daily_loss:
        return RejectReason.DAILY_LOSS_LIMIT
    return None


def buy_room(state: RiskState, limits: RiskLimits, market: ConditionId) -> int:
    """Return the most a new BUY in ``market`` may spend under the exposure limits and cash.

    Open BUYs reserve their fees. Pass the room to the sizer as ``max_notional`` (its spend
    includes the new order's fee); the order still goes through :func:`check`.
    """
    summary = summary_of(state)
    room = min(
        limits.max_position_per_market - summary.market_exposure.get(market, 0),
        limits.max_total_exposure - summary.exposure,
        state.cash - summary.reserved_cash,
    )
    return max(room, 0)
