import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import fields, replace
from decimal import Decimal

import msgspec
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from prediction_engine.core import fees
from prediction_engine.core.events import Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import Order, OrderIntent, OrderStatus, TimeInForce
from prediction_engine.core.portfolio import Position
from prediction_engine.risk import (
    Approved,
    InstrumentView,
    KillSwitch,
    Rejected,
    RejectReason,
    RiskLimits,
    RiskState,
    RiskSummary,
    buy_room,
    check,
    halt_reason,
    summarize,
    violations,
    with_order,
)
from prediction_engine.risk import summary as summary_module
from prediction_engine.risk.limits import _first_broken

R = RejectReason
MARKET = ConditionId("0x" + "aa" * 32)
ELSEWHERE = ConditionId("0x" + "bb" * 32)
YES, NO, OTHER = TokenId("1"), TokenId("2"), TokenId("3")
NOW = 10**18
LIMITS = RiskLimits()
CRYPTO = FeeSchedule(rate=Decimal("0.07"))
VIEW = InstrumentView(tick_size=10_000, best_bid=380_000, best_ask=420_000, fee_schedule=CRYPTO)
STATE = RiskState(
    cash=1_000 * ONE,
    positions={},
    open_orders=(),
    instruments={YES: VIEW, NO: VIEW, OTHER: VIEW},
)


def intent(
    side: Side = Side.BUY,
    price: int = 400_000,
    size: int = 10 * ONE,
    tif: TimeInForce = TimeInForce.GTC,
    post_only: bool = False,
    token: TokenId = YES,
) -> OrderIntent:
    return OrderIntent(
        market=MARKET,
        token=token,
        side=side,
        price=price,
        size=size,
        time_in_force=tif,
        post_only=post_only,
    )


def resting(
    market: ConditionId = MARKET,
    token: TokenId = YES,
    side: Side = Side.BUY,
    price: int = 300_000,
    size: int = 5 * ONE,
    status: OrderStatus = OrderStatus.ACCEPTED,
) -> Order:
    return Order(
        client_id="c",
        market=market,
        token=token,
        side=side,
        price=price,
        size=size,
        status=status,
    )


def held(token: TokenId, shares: int, basis: int, market: ConditionId = MARKET) -> Position:
    return Position(market=market, token=token, shares=shares, basis=basis)


def reasons(i: OrderIntent, state: RiskState = STATE, limits: RiskLimits = LIMITS) -> list[R]:
    return [r.reason for r in violations(i, state, limits, NOW)]


def test_base_case_is_approved() -> None:
    assert check(intent(), STATE, LIMITS, NOW) == Approved(intent=intent())
    assert violations(intent(), STATE, LIMITS, NOW) == []


CASES: list[tuple[RejectReason, OrderIntent, RiskState, RiskLimits]] = [
    (
        R.KILL_SWITCH,
        intent(),
        replace(STATE, kill_switch=KillSwitch().engage("operator", NOW)),
        LIMITS,
    ),
    (R.DAILY_LOSS_LIMIT, intent(), replace(STATE, daily_pnl=-50 * ONE), LIMITS),
    (R.UNKNOWN_INSTRUMENT, intent(), replace(STATE, instruments={}), LIMITS),
    (
        R.MARKET_CLOSED,
        intent(),
        replace(STATE, instruments={YES: replace(VIEW, accepting_orders=False)}),
        LIMITS,
    ),
    (R.OFF_TICK, intent(price=405_000), STATE, LIMITS),
    (R.OFF_SIZE_STEP, intent(size=10 * ONE + 5_000), STATE, LIMITS),
    (R.BELOW_MIN_SIZE, intent(size=4 * ONE), STATE, LIMITS),
    (
        R.BELOW_MIN_SIZE,  # the venue's own minimum wins over the default
        intent(size=10 * ONE),
        replace(STATE, instruments={YES: replace(VIEW, min_order_size=15 * ONE)}),
        LIMITS,
    ),
    (R.BELOW_MIN_NOTIONAL, intent(price=420_000, size=2 * ONE, tif=TimeInForce.FAK), STATE, LIMITS),
    (
        R.BELOW_MIN_NOTIONAL,  # a GTC that crosses is marketable too: 5 x 0.10 = $0.50
        intent(side=Side.SELL, price=100_000, size=5 * ONE),
        replace(STATE, positions={YES: held(YES, 5 * ONE, 2 * ONE)}),
        LIMITS,
    ),
    (R.POST_ONLY_WOULD_CROSS, intent(price=420_000, post_only=True), STATE, LIMITS),
    (R.INSUFFICIENT_CASH, intent(), replace(STATE, cash=3 * ONE), LIMITS),
    (
        R.INSUFFICIENT_CASH,  # open BUYs (with their taker fee) reserve cash
        intent(),
        replace(STATE, cash=10 * ONE, open_orders=(resting(price=400_000, size=15 * ONE),)),
        LIMITS,
    ),
    (
        R.INSUFFICIENT_POSITION,
        intent(side=Side.SELL, price=440_000),
        replace(STATE, positions={YES: held(YES, 5 * ONE, 2 * ONE)}),
        LIMITS,
    ),
    (
        R.INSUFFICIENT_POSITION,  # shares already offered by an open SELL are not free
        intent(side=Side.SELL, price=440_000),
        replace(
            STATE,
            positions={YES: held(YES, 12 * ONE, 5 * ONE)},
            open_orders=(resting(side=Side.SELL, price=450_000),),
        ),
        LIMITS,
    ),
    (
        R.MAX_OPEN_ORDERS,
        intent(),
        replace(STATE, open_orders=(resting(ELSEWHERE, OTHER), resting(ELSEWHERE, OTHER))),
        RiskLimits(max_open_orders=2),
    ),
    (R.MAX_ORDERS_PER_MARKET, intent(), replace(STATE, open_orders=(resting(),) * 4), LIMITS),
    (
        R.COOLDOWN,
        intent(),
        replace(STATE, last_order_ns={MARKET: NOW - 500_000_000}),
        LIMITS,
    ),
    (
        R.MAX_POSITION_PER_MARKET,  # $97 held in the market's NO token + $4 > $100
        intent(),
        replace(STATE, positions={NO: held(NO, 200 * ONE, 97 * ONE)}),
        LIMITS,
    ),
    (
        R.MAX_POSITION_PER_MARKET,  # open BUYs count: $90 + 2 x $1.50 + $4 > $96
        intent(),
        replace(
            STATE,
            open_orders=(resting(price=450_000, size=200 * ONE),)
            + (resting(price=300_000, size=5 * ONE),) * 2,
        ),
        RiskLimits(max_position_per_market=96 * ONE),
    ),
    (
        R.MAX_TOTAL_EXPOSURE,
        intent(),
        replace(STATE, positions={OTHER: held(OTHER, 900 * ONE, 497 * ONE, ELSEWHERE)}),
        LIMITS,
    ),
]


@pytest.mark.parametrize(("reason", "i", "state", "limits"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_trips_alone(
    reason: RejectReason, i: OrderIntent, state: RiskState, limits: RiskLimits
) -> None:
    assert reasons(i, state, limits) == [reason]
    decision = check(i, state, limits, NOW)
    assert isinstance(decision, Rejected)
    assert (decision.reason, decision.intent) == (reason, i)
    assert decision.detail


def test_every_reason_has_a_case() -> None:
    assert {c[0] for c in CASES} == set(RejectReason)


def test_rules_apply_in_order() -> None:
    state = replace(STATE, kill_switch=KillSwitch(engaged=True), cash=0)
    decision = check(intent(size=ONE), state, LIMITS, NOW)
    assert isinstance(decision, Rejected) and decision.reason is R.KILL_SWITCH
    assert reasons(intent(size=ONE), state) == [
        R.KILL_SWITCH,
        R.BELOW_MIN_SIZE,
        R.INSUFFICIENT_CASH,
    ]


def test_boundaries_are_allowed() -> None:
    at_cooldown = replace(STATE, last_order_ns={MARKET: NOW - LIMITS.cooldown_ns})
    assert reasons(intent(), at_cooldown) == []
    at_limit = replace(STATE, positions={NO: held(NO, 200 * ONE, 96 * ONE)})
    assert reasons(intent(), at_limit) == []  # 96 + 4 == 100
    assert reasons(intent(size=5 * ONE)) == []
    assert reasons(intent(price=420_000, size=2_390_000, tif=TimeInForce.FOK)) == []  # $1.0038


def test_sells_of_held_shares_skip_exposure_limits() -> None:
    state = replace(STATE, positions={YES: held(YES, 300 * ONE, 120 * ONE)})
    assert reasons(intent(side=Side.SELL, price=440_000, size=100 * ONE), state) == []
    assert reasons(intent(), state) == [R.MAX_POSITION_PER_MARKET]


def test_closed_orders_in_the_view_are_ignored() -> None:
    done = resting(status=OrderStatus.FILLED)
    unknown = resting(status=OrderStatus.SUBMITTED_UNKNOWN)
    assert (
        reasons(intent(), replace(STATE, open_orders=(done,) * 9), RiskLimits(max_open_orders=1))
        == []
    )
    assert reasons(
        intent(), replace(STATE, open_orders=(unknown,)), RiskLimits(max_open_orders=1)
    ) == [R.MAX_OPEN_ORDERS]


def test_post_only_buy_reserves_no_fee() -> None:
    # 10 x 0.40 = $4.00 exactly; a taker would also need the 0.168 fee.
    state = replace(STATE, cash=4 * ONE)
    assert reasons(intent(post_only=True), state) == []
    assert reasons(intent(), state) == [R.INSUFFICIENT_CASH]


def test_halt_reason_and_kill_switch() -> None:
    assert halt_reason(STATE.kill_switch, STATE.daily_pnl, LIMITS) is None
    switch = KillSwitch().engage("feed stale", 5)
    assert (switch.engaged, switch.reason, switch.since_ns) == (True, "feed stale", 5)
    assert switch.engage("second", 9) is switch
    assert halt_reason(switch, STATE.daily_pnl, LIMITS) is R.KILL_SWITCH
    assert switch.release() == KillSwitch()
    assert halt_reason(STATE.kill_switch, -60 * ONE, LIMITS) is R.DAILY_LOSS_LIMIT
    assert halt_reason(STATE.kill_switch, -60 * ONE, RiskLimits(halt_on_daily_loss=False)) is None


def test_buy_room() -> None:
    state = replace(
        STATE,
        positions={NO: held(NO, 100 * ONE, 40 * ONE)},
        open_orders=(resting(price=400_000, size=25 * ONE),),  # $10
    )
    assert buy_room(state, LIMITS, MARKET) == 50 * ONE
    assert buy_room(state, LIMITS, ELSEWHERE) == 100 * ONE
    # $15 cash - $10 open BUY - its $0.42 taker fee
    assert buy_room(replace(state, cash=15 * ONE), LIMITS, ELSEWHERE) == 4_580_000
    assert buy_room(state, RiskLimits(max_position_per_market=ONE), MARKET) == 0


def test_limits_load_from_config_and_validate() -> None:
    limits = msgspec.convert({"max_open_orders": 3, "cooldown_ns": 0}, RiskLimits)
    assert (limits.max_open_orders, limits.cooldown_ns) == (3, 0)
    with pytest.raises(msgspec.ValidationError, match="max_daily_loss"):
        msgspec.convert({"max_daily_loss": -1}, RiskLimits)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"max_daily_los": 1}, RiskLimits)


@given(
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(min_value=1, max_value=99).map(lambda c: c * 10_000),
    st.integers(min_value=1, max_value=100_000).map(lambda c: c * 1_000),
    st.sampled_from(list(TimeInForce)).filter(lambda t: t is not TimeInForce.GTD),
    st.integers(min_value=0, max_value=200 * ONE),
    st.integers(min_value=-100 * ONE, max_value=100 * ONE),
    st.integers(min_value=0, max_value=300 * ONE),
)
def test_check_is_the_first_violation(
    side: Side, price: int, size: int, tif: TimeInForce, cash: int, pnl: int, shares: int
) -> None:
    i = intent(side=side, price=price, size=size, tif=tif)
    state = replace(
        STATE, cash=cash, daily_pnl=pnl, positions={YES: held(YES, shares, shares // 2)}
    )
    found = violations(i, state, LIMITS, NOW)
    decision = check(i, state, LIMITS, NOW)
    assert decision == (found[0] if found else Approved(intent=i))


# -- the summary, the fast path and with_order agree with the rules ------------------------

MISSING = TokenId("4")  # a token with no instrument view
TOKEN_MARKET = {YES: MARKET, NO: MARKET, OTHER: ELSEWHERE, MISSING: ELSEWHERE}
SCHEDULES = [
    None,
    CRYPTO,
    FeeSchedule(rate=Decimal("0.03")),
    FeeSchedule(rate=Decimal("0.025"), exponent=2),
]
# Mostly valid, realistic values (so that every rule, and approval, comes up often).
tokens = st.sampled_from([YES, YES, YES, NO, NO, OTHER, OTHER, MISSING])
prices = st.builds(
    lambda cents, off: cents * 10_000 + off,
    st.integers(min_value=1, max_value=98),
    st.sampled_from([0] * 9 + [1_000, 5_000]),
)
sizes = st.integers(min_value=1, max_value=60).map(lambda halves: halves * ONE // 2)


class OnDemandViews(Mapping[TokenId, InstrumentView]):
    """Builds a new view on every lookup, like the engine's mapping (and counts them)."""

    def __init__(self, views: dict[TokenId, InstrumentView]) -> None:
        self.views = views
        self.lookups = 0

    def __getitem__(self, token: TokenId) -> InstrumentView:
        self.lookups += 1
        return replace(self.views[token])

    def __iter__(self) -> Iterator[TokenId]:
        return iter(self.views)

    def __len__(self) -> int:
        return len(self.views)


@st.composite
def orders(draw: st.DrawFn) -> Order:
    token = draw(tokens)
    size = draw(sizes)
    tif = draw(st.sampled_from([TimeInForce.GTC, TimeInForce.FOK, TimeInForce.FAK]))
    return Order(
        client_id="o",
        market=draw(st.sampled_from([TOKEN_MARKET[token], MARKET, ELSEWHERE])),
        token=token,
        side=draw(st.sampled_from([Side.BUY, Side.SELL])),
        price=draw(prices),
        size=size,
        time_in_force=tif,
        post_only=tif is TimeInForce.GTC and draw(st.booleans()),
        filled=draw(st.integers(min_value=0, max_value=size)),
        status=draw(st.sampled_from(list(OrderStatus))),
    )


@st.composite
def views(draw: st.DrawFn) -> InstrumentView:
    return InstrumentView(
        tick_size=draw(st.sampled_from([1_000, 10_000])),
        min_order_size=draw(st.sampled_from([None, None, ONE, 15 * ONE])),
        best_bid=draw(st.none() | prices),
        best_ask=draw(st.none() | prices),
        accepting_orders=draw(st.sampled_from([True] * 9 + [False])),
        fee_schedule=draw(st.sampled_from(SCHEDULES)),
    )


@st.composite
def states(draw: st.DrawFn) -> RiskState:
    amounts = st.tuples(st.sampled_from([-5, 0, 10, 50, 200]), st.sampled_from([0, 3, 20, 60]))
    held = draw(st.dictionaries(tokens, amounts))
    return RiskState(
        cash=draw(st.sampled_from([0, 5, 20, 100, 300, 300])) * ONE,
        positions={
            t: Position(market=TOKEN_MARKET[t], token=t, shares=s * ONE, basis=b * ONE)
            for t, (s, b) in held.items()
        },
        open_orders=draw(st.lists(orders(), max_size=6)),
        instruments=OnDemandViews({t: draw(views()) for t in (YES, NO, OTHER)}),
        last_order_ns=draw(
            st.dictionaries(
                st.sampled_from([MARKET, ELSEWHERE]),
                st.sampled_from([NOW - 3 * 10**9, NOW - 10**9, NOW - 5 * 10**8]),
            )
        ),
        daily_pnl=draw(st.sampled_from([0] * 8 + [5, -10, -30, -60])) * ONE,
        kill_switch=KillSwitch(engaged=draw(st.sampled_from([False] * 15 + [True]))),
    )


@st.composite
def limits(draw: st.DrawFn) -> RiskLimits:
    return RiskLimits(
        max_position_per_market=draw(st.sampled_from([10, 50, 100, 200])) * ONE,
        max_total_exposure=draw(st.sampled_from([30, 100, 500])) * ONE,
        max_orders_per_market=draw(st.sampled_from([1, 2, 4])),
        max_open_orders=draw(st.sampled_from([2, 5, 20])),
        cooldown_ns=draw(st.sampled_from([0, 10**9])),
        max_daily_loss=draw(st.sampled_from([20, 50])) * ONE,
        min_order_size=draw(st.sampled_from([ONE, 5 * ONE])),
        min_marketable_notional=draw(st.sampled_from([ONE, ONE, 3 * ONE])),
        size_step=draw(st.sampled_from([10_000] * 5 + [ONE])),
    )


@st.composite
def intents(draw: st.DrawFn) -> OrderIntent:
    token = draw(tokens)
    tif = draw(st.sampled_from([TimeInForce.GTC, TimeInForce.FOK, TimeInForce.FAK]))
    return OrderIntent(
        market=draw(st.sampled_from([TOKEN_MARKET[token], MARKET, ELSEWHERE])),
        token=token,
        side=draw(st.sampled_from([Side.BUY, Side.BUY, Side.SELL])),
        price=draw(prices),
        size=draw(sizes),
        time_in_force=tif,
        post_only=tif is TimeInForce.GTC and draw(st.booleans()),
    )


def naive_totals(state: RiskState) -> tuple[object, ...]:
    """The summary's totals, summed the slow way (as the rules did before the summary)."""
    live = [o for o in state.open_orders if o.is_open]
    buys = [o for o in live if o.side is Side.BUY]

    def schedule(token: TokenId) -> FeeSchedule | None:
        view = state.instruments.get(token)
        return view.fee_schedule if view else None

    def fee(o: Order) -> int:
        return 0 if o.post_only else fees.taker_fee(o.remaining, o.price, schedule(o.token))

    def at_risk(p: Position) -> int:
        return p.basis if p.shares >= 0 else p.basis - p.shares

    def exposure(market: ConditionId | None) -> int:
        held = sum(at_risk(p) for p in state.positions.values() if market in (None, p.market))
        bought = sum(o.remaining * o.price // ONE for o in buys if market in (None, o.market))
        return held + bought

    markets = {p.market for p in state.positions.values()} | {o.market for o in buys}
    sells = [o for o in live if o.side is Side.SELL]
    return (
        sum(o.remaining * o.price // ONE + fee(o) for o in buys),
        exposure(None),
        {m: exposure(m) for m in markets},
        len(live),
        dict(Counter(o.market for o in live)),
        {t: sum(o.remaining for o in sells if o.token == t) for t in {o.token for o in sells}},
    )


def totals(summary: RiskSummary) -> tuple[object, ...]:
    return (
        summary.reserved_cash,
        summary.exposure,
        dict(summary.market_exposure),
        summary.open_order_count,
        dict(summary.market_order_counts),
        dict(summary.shares_offered),
    )


def decisions(i: OrderIntent, state: RiskState, limits: RiskLimits) -> object:
    return check(i, state, limits, NOW), violations(i, state, limits, NOW)


def fast_path(i: OrderIntent, state: RiskState, limits: RiskLimits) -> RejectReason | None:
    """What check's inline rules say (a wrong rejection there would only cost time)."""
    view, summary = state.instruments.get(i.token), summarize(state)
    return _first_broken(i, state, limits, NOW, view=view, summary=summary)


@settings(max_examples=600, deadline=None)
@given(states(), limits(), intents())
def test_fast_check_agrees_with_the_rule_table(
    state: RiskState, limits: RiskLimits, i: OrderIntent
) -> None:
    assert totals(summarize(state)) == naive_totals(state)
    found = violations(i, state, limits, NOW)
    event(found[0].reason if found else "approved")
    assert fast_path(i, state, limits) == (found[0].reason if found else None)
    assert check(i, state, limits, NOW) == (found[0] if found else Approved(intent=i))
    summarized = replace(state, summary=summarize(state))
    assert decisions(i, summarized, limits) == (check(i, state, limits, NOW), found)
    assert buy_room(summarized, limits, i.market) == buy_room(state, limits, i.market)


@settings(max_examples=200, deadline=None)
@given(states(), limits(), st.lists(intents(), min_size=1, max_size=5))
def test_basket_checked_with_with_order_decides_as_the_plain_path(
    state: RiskState, limits: RiskLimits, legs: list[OrderIntent]
) -> None:
    chained = replace(state, summary=summarize(state))
    plain = state
    for n, leg in enumerate(legs):
        assert decisions(leg, chained, limits) == decisions(leg, plain, limits)
        order = Order.from_intent(leg, f"leg-{n}", NOW)
        chained = with_order(chained, order)
        plain = replace(plain, open_orders=[*plain.open_orders, order])
        assert list(chained.open_orders) == list(plain.open_orders)
        assert chained.summary is not None
        assert totals(chained.summary) == totals(summarize(plain)) == naive_totals(plain)


def test_check_allows_every_boundary() -> None:
    fee = 168_000  # 10 x 0.40 x 0.07 x 0.4 x 0.6 = $4 notional + $0.168 fee
    one_open = replace(STATE, open_orders=(resting(ELSEWHERE, OTHER, side=Side.SELL),))
    held_yes = {YES: held(YES, 10 * ONE, 4 * ONE)}
    boundaries: list[tuple[OrderIntent, RiskState, RiskLimits]] = [
        (intent(), replace(STATE, daily_pnl=-50 * ONE + 1), LIMITS),
        (intent(price=10_000, size=100 * ONE), STATE, LIMITS),  # the lowest tick
        (intent(price=990_000), STATE, LIMITS),  # the highest tick
        (intent(size=5 * ONE), STATE, LIMITS),
        (intent(price=400_000, size=2_500_000, tif=TimeInForce.FOK), STATE, LIMITS),  # $1
        (intent(price=410_000, post_only=True), STATE, LIMITS),  # a tick below the ask
        (
            intent(side=Side.SELL, price=390_000, post_only=True),
            replace(STATE, positions=held_yes),
            LIMITS,
        ),
        (intent(), replace(STATE, cash=4 * ONE + fee), LIMITS),
        (intent(side=Side.SELL, price=440_000), replace(STATE, positions=held_yes), LIMITS),
        (intent(), one_open, RiskLimits(max_open_orders=2)),
        (intent(), replace(STATE, open_orders=(resting(),) * 3), LIMITS),
        (intent(), replace(STATE, last_order_ns={MARKET: NOW - LIMITS.cooldown_ns}), LIMITS),
        (intent(), replace(STATE, positions={NO: held(NO, 200 * ONE, 96 * ONE)}), LIMITS),
        (intent(), STATE, RiskLimits(max_total_exposure=4 * ONE)),
    ]
    for i, state, limits in boundaries:
        for s in (state, replace(state, summary=summarize(state))):
            assert check(i, s, limits, NOW) == Approved(intent=i)
            assert violations(i, s, limits, NOW) == []
        assert fast_path(i, state, limits) is None


def test_with_order_without_a_summary_computes_it() -> None:
    order = resting(price=400_000, size=25 * ONE)  # $10 + its $0.42 taker fee
    after = with_order(STATE, order)
    assert after.summary == summarize(after)
    assert after.summary.reserved_cash == 10_420_000
    assert (after.summary.open_order_count, after.summary.market_exposure) == (
        1,
        {MARKET: 10 * ONE},
    )


def test_with_order_keeps_every_other_field() -> None:
    state = RiskState(
        cash=7 * ONE,
        positions={YES: held(YES, 10 * ONE, 4 * ONE)},
        open_orders=(resting(side=Side.SELL),),
        instruments={YES: VIEW},
        last_order_ns={MARKET: 5},
        daily_pnl=-3,
        kill_switch=KillSwitch(engaged=True, reason="r"),
    )
    # with_order lists RiskState's fields by hand: a new field must be added there too.
    assert [f.name for f in fields(RiskState)] == [
        "cash",
        "positions",
        "open_orders",
        "instruments",
        "last_order_ns",
        "daily_pnl",
        "kill_switch",
        "summary",
    ]
    after = with_order(state, resting())
    expected = replace(state, open_orders=[*state.open_orders, resting()])
    assert after == replace(expected, summary=summarize(expected))
    assert after.summary is not None and after.summary.describes(after)


def test_a_summary_of_other_orders_is_not_used() -> None:
    summarized = replace(STATE, summary=summarize(STATE))
    # replace() keeps the summary of the empty order list; risk must count the four orders.
    crowded = replace(summarized, open_orders=(resting(),) * 4)
    assert reasons(intent(), crowded) == [R.MAX_ORDERS_PER_MARKET]
    assert buy_room(crowded, LIMITS, MARKET) == 100 * ONE - 4 * 1_500_000
    holding = replace(summarized, positions={NO: held(NO, 200 * ONE, 97 * ONE)})
    assert reasons(intent(), holding) == [R.MAX_POSITION_PER_MARKET]
    # $15 cash - $10 open BUY - its $0.42 taker fee, then without a fee schedule
    buying = replace(STATE, cash=15 * ONE, open_orders=(resting(price=400_000, size=25 * ONE),))
    buying = replace(buying, summary=summarize(buying))
    assert buy_room(buying, LIMITS, ELSEWHERE) == 4_580_000
    no_fees = replace(buying, instruments={YES: replace(VIEW, fee_schedule=None)})
    assert buy_room(no_fees, LIMITS, ELSEWHERE) == 5 * ONE


def test_check_with_a_summary_builds_one_view() -> None:
    views = OnDemandViews({YES: VIEW, NO: VIEW})
    state = replace(STATE, open_orders=(resting(), resting(token=NO)), instruments=views)
    state = replace(state, summary=summarize(state))
    views.lookups = 0
    assert check(intent(), state, LIMITS, NOW) == Approved(intent=intent())
    assert views.lookups == 1


@settings(max_examples=500, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**13),
    st.integers(min_value=0, max_value=ONE),
    st.decimals(min_value=0, max_value=2, places=6, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=3),
)
def test_memoized_taker_fee_equals_the_core_fee(
    shares: int, price: int, rate: Decimal, exponent: int
) -> None:
    schedule = FeeSchedule(rate=rate, exponent=exponent)
    expected = fees.taker_fee(shares, price, schedule)
    assert summary_module.taker_fee(shares, price, schedule) == expected  # miss or hit
    assert summary_module.taker_fee(shares, price, schedule) == expected  # hit


@pytest.mark.parametrize(
    ("shares", "price", "schedule"),
    [
        (-1, 400_000, CRYPTO),
        (ONE, ONE + 1, CRYPTO),
        (ONE, 400_000, FeeSchedule(rate=Decimal(-1))),
        (ONE, 400_000, FeeSchedule(rate=Decimal("NaN"))),
        (ONE, 400_000, FeeSchedule(rate=Decimal("sNaN"))),
        (ONE, 400_000, FeeSchedule(rate=CRYPTO.rate, exponent=-1)),
    ],
)
def test_memoized_taker_fee_raises_as_the_core_fee(
    shares: int, price: int, schedule: FeeSchedule
) -> None:
    summary_module.taker_fee(ONE, 400_000, CRYPTO)  # the valid schedule is memoized
    try:
        fees.taker_fee(shares, price, schedule)
    except ValueError as e:
        message = str(e)
    with pytest.raises(ValueError, match=re.escape(message)):
        summary_module.taker_fee(shares, price, schedule)
