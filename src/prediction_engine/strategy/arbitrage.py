"""Complete-set arbitrage: buy every outcome of a question for less than the $1 it pays.

Two shapes, both paying exactly 1 per share of the set whatever happens:

1. One binary market: YES + NO.
2. A neg-risk event (several binary markets sharing ``event_slug``, exactly one resolves YES):
   the YES token of every open market of the event.

The basket fires when the per-share cost of the set, taker fees included, is at most
``1 - min_edge``. Size is the depth that clears that bar on *every* leg. By default
(``max_levels=1``) only the best ask of each leg is taken: size = the smallest best-ask size,
and each leg is limited at its best ask. With ``max_levels > 1`` the legs' asks are walked
together, best level first, and a deeper level is taken only while the marginal set (one share
of each leg at its current level, plus fees) still costs ``<= 1 - min_edge``; each leg is then
limited at the deepest level it needs. The size is capped by ``max_notional`` (total cost of
all legs, fees included), floored to 0.01 share, and dropped when any leg would be below the
venue's $1 marketable minimum. Legs are fill-or-kill BUYs that risk approves together or not
at all (:class:`~prediction_engine.strategy.base.Basket`).

Fees per share come from :func:`~prediction_engine.core.fees.taker_fee` on one share (floored
to the venue's 0.00001), and the chosen size is checked once more with the exact fee of each
level, so the edge holds on what the venue would charge.

The same opportunity is not re-sent: per group (market or event) the strategy remembers the
top of book of every leg when it last fired and stays quiet until that changes (a killed FOK
basket leaves the book as it was). It also stays quiet while any leg's market has open orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, ClassVar, NamedTuple

import msgspec

from prediction_engine.core.book import OrderBook
from prediction_engine.core.events import BookDelta, BookSnapshot, Event, Side, TopOfBook
from prediction_engine.core.fees import taker_fee
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import FeeSchedule, Market
from prediction_engine.core.numbers import ONE, format_micro
from prediction_engine.core.orders import OrderIntent, TimeInForce
from prediction_engine.strategy.base import Basket, Intent, StateView, Subscriptions

__all__ = ["Arbitrage", "ArbitrageParams", "BasketPlan", "plan_basket"]

SIZE_STEP = ONE // 100
"""Orders are sized in steps of 0.01 share."""
MIN_LEG_NOTIONAL = ONE
"""The venue's minimum marketable order: $1 (limit price x size) per leg."""


class ArbitrageParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of :class:`Arbitrage`."""

    min_edge: Annotated[
        float,
        msgspec.Meta(
            ge=0,
            le=1,
            description="Minimum profit per share of the set, in USD after taker fees "
            "(the set must cost at most 1 - min_edge).",
        ),
    ] = 0.005
    max_notional: Annotated[
        float,
        msgspec.Meta(
            gt=0,
            le=1e9,
            description="Most USD to spend on one basket, all legs and fees together.",
        ),
    ] = 50.0
    max_levels: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            le=50,
            description="Ask levels per leg to take: 1 takes only the best ask; more walk "
            "deeper while the set still costs at most 1 - min_edge.",
        ),
    ] = 1


class _Leg(NamedTuple):
    market: Market
    token: TokenId
    book: OrderBook


class _Step(NamedTuple):
    """One slice of the joint walk: ``size`` shares on every leg at ``prices``."""

    size: int
    unit_cost: int
    prices: tuple[int, ...]


class BasketPlan(NamedTuple):
    """A sized complete set: ``size`` shares per leg, each leg's limit price, total cost."""

    size: int
    limits: tuple[int, ...]
    cost: int


def _unit_cost(prices: Sequence[int], schedules: Sequence[FeeSchedule | None]) -> int:
    """Cost of one share of each leg at ``prices``, taker fees included (micro-USD)."""
    return sum(p + taker_fee(ONE, p, s) for p, s in zip(prices, schedules, strict=True))


def _walk(
    levels: Sequence[Sequence[tuple[int, int]]],
    schedules: Sequence[FeeSchedule | None],
    max_unit_cost: int,
) -> list[_Step]:
    """Walk every leg's asks together while one more set costs at most ``max_unit_cost``."""
    index = [0] * len(levels)
    left = [leg[0][1] for leg in levels]
    steps: list[_Step] = []
    while True:
        prices = tuple(leg[i][0] for leg, i in zip(levels, index, strict=True))
        unit = _unit_cost(prices, schedules)
        if unit > max_unit_cost:
            return steps
        take = min(left)
        steps.append(_Step(take, unit, prices))
        for j, leg in enumerate(levels):
            left[j] -= take
            if left[j] == 0:
                index[j] += 1
                if index[j] == len(leg):
                    return steps
                left[j] = leg[index[j]][1]


def _affordable(steps: Sequence[_Step], budget: int) -> int:
    """Shares of the set that ``budget`` buys along ``steps``, floored to the size step."""
    size = 0
    for step in steps:
        take = min(step.size, budget * ONE // step.unit_cost)
        size += take
        budget -= -(-take * step.unit_cost // ONE)  # ceil: never overspend
        if take < step.size:
            break
    return size // SIZE_STEP * SIZE_STEP


def _exact_cost(
    steps: Sequence[_Step], size: int, schedules: Sequence[FeeSchedule | None]
) -> tuple[tuple[int, ...], int]:
    """Return (limit price per leg, total cost with each level's own fee) of ``size`` shares."""
    remaining, cost = size, 0
    limits = steps[0].prices
    for step in steps:
        if remaining <= 0:
            break
        take = min(step.size, remaining)
        for price, schedule in zip(step.prices, schedules, strict=True):
            cost += -(-take * price // ONE) + taker_fee(take, price, schedule)
        limits, remaining = step.prices, remaining - take
    return limits, cost


def plan_basket(
    levels: Sequence[Sequence[tuple[int, int]]],
    schedules: Sequence[FeeSchedule | None],
    min_edge: int,
    max_notional: int,
) -> BasketPlan | None:
    """Size a complete set from each leg's asks (best first); ``None`` when it does not pay.

    ``min_edge`` is micro-USD per share, ``max_notional`` micro-USD. Returns the size, the
    limit price of each leg and the total cost (fees included).
    """
    if not levels or any(not leg for leg in levels):
        return None
    min_edge = max(min_edge, 1)  # a set that only breaks even is not worth the risk
    steps = _walk(levels, schedules, ONE - min_edge)
    size = _affordable(steps, max_notional) if steps else 0
    if size <= 0:
        return None
    limits, cost = _exact_cost(steps, size, schedules)
    if size - cost < min_edge * size // ONE:
        return None
    if any(price * size // ONE < MIN_LEG_NOTIONAL for price in limits):
        return None
    return BasketPlan(size, limits, cost)


class Arbitrage:
    """Buy complete sets (YES+NO, or every YES of a neg-risk event) below $1 after fees."""

    name: ClassVar[str] = "arbitrage"
    summary: ClassVar[str] = (
        "Buy YES+NO of a market, or every YES of a neg-risk event, when the set costs "
        "under $1 after fees (fill-or-kill basket)."
    )
    params_type: ClassVar[type[ArbitrageParams]] = ArbitrageParams

    def __init__(self, params: ArbitrageParams | None = None, *, id: str | None = None) -> None:
        self.params = params or ArbitrageParams()
        self._id = id or self.name
        self._binary: set[ConditionId] = set()
        self._events: dict[str, set[ConditionId]] = {}
        self._fired: dict[str, tuple[tuple[int | None, int], ...]] = {}

    @property
    def id(self) -> str:
        """Instance name used in telemetry and order attribution."""
        return self._id

    def subscriptions(self, markets: Sequence[Market]) -> Subscriptions:
        """Every token of binary markets; neg-risk markets are remembered by event."""
        wanted = [m for m in markets if len(m.tokens) == 2]
        for market in wanted:
            self._binary.add(market.condition_id)
            if market.neg_risk and market.event_slug:
                self._events.setdefault(market.event_slug, set()).add(market.condition_id)
        return Subscriptions.for_markets(wanted)

    def on_event(self, event: Event, view: StateView) -> Sequence[Intent]:
        """On a book change, try the market's event first, then the market itself."""
        if not isinstance(event, BookSnapshot | BookDelta | TopOfBook):
            return ()
        market = view.market(event.market)
        if market is None or market.condition_id not in self._binary:
            return ()
        for key, legs in self._groups(market, view):
            basket = self._try(key, legs, view)
            if basket is not None:
                return (basket,)
        return ()

    def _groups(
        self, market: Market, view: StateView
    ) -> list[tuple[str, list[tuple[Market, TokenId]]]]:
        groups: list[tuple[str, list[tuple[Market, TokenId]]]] = []
        slug = market.event_slug
        if market.neg_risk and slug and slug in self._events:
            outcomes = view.event_markets(slug)
            if len(outcomes) >= 2 and all(len(m.tokens) == 2 for m in outcomes):
                groups.append((f"event:{slug}", [(m, m.tokens[0]) for m in outcomes]))
        pair = [(market, market.tokens[0]), (market, market.tokens[1])]
        groups.append((f"market:{market.condition_id}", pair))
        return groups

    def _cheap_enough(self, legs: Sequence[tuple[Market, TokenId]], view: StateView) -> bool:
        """Whether the best asks alone cost at most 1 - min_edge (fees only add): the quick
        test that dismisses almost every book update before any sizing work."""
        total = 0
        for _, token in legs:
            book = view.book(token)
            ask = book.best_ask if book is not None else None
            if ask is None:
                return False
            total += ask
        return total <= ONE - max(round(self.params.min_edge * ONE), 1)

    def _books(self, legs: Sequence[tuple[Market, TokenId]], view: StateView) -> list[_Leg] | None:
        """Every leg's live book with an ask, or ``None`` (one missing leg spoils the set)."""
        out: list[_Leg] = []
        for market, token in legs:
            book = view.book(token)
            if book is None or view.is_stale(token) or book.best_ask is None:
                return None
            if view.open_orders(market.condition_id):
                return None
            out.append(_Leg(market, token, book))
        return out

    def _try(
        self, key: str, legs: Sequence[tuple[Market, TokenId]], view: StateView
    ) -> Basket | None:
        if not self._cheap_enough(legs, view):
            return None
        books = self._books(legs, view)
        if books is None:
            return None
        top = tuple((leg.book.best_ask, leg.book.best_ask_size()) for leg in books)
        if self._fired.get(key) == top:
            return None  # already sent for exactly this book
        self._fired.pop(key, None)
        plan = plan_basket(
            [leg.book.asks(self.params.max_levels) for leg in books],
            [leg.market.fee_schedule for leg in books],
            round(self.params.min_edge * ONE),
            round(self.params.max_notional * ONE),
        )
        if plan is None:
            return None
        self._fired[key] = top
        return _basket(key, books, plan)


def _basket(key: str, legs: Sequence[_Leg], plan: BasketPlan) -> Basket:
    orders = tuple(
        OrderIntent(
            market=leg.market.condition_id,
            token=leg.token,
            side=Side.BUY,
            price=price,
            size=plan.size,
            time_in_force=TimeInForce.FOK,
        )
        for leg, price in zip(legs, plan.limits, strict=True)
    )
    profit = plan.size - plan.cost
    reason = (
        f"arbitrage {key}: {len(legs)} legs, {format_micro(plan.size)} sets for "
        f"${format_micro(plan.cost)} with fees, locks ${format_micro(profit)}"
    )
    return Basket(legs=orders, reason=reason)
