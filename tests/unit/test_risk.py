from dataclasses import replace
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    buy_room,
    check,
    halt_reason,
    violations,
)

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
    assert halt_reason(STATE, LIMITS) is None
    switch = KillSwitch().engage("feed stale", 5)
    assert (switch.engaged, switch.reason, switch.since_ns) == (True, "feed stale", 5)
    assert switch.engage("second", 9) is switch
    assert halt_reason(replace(STATE, kill_switch=switch), LIMITS) is R.KILL_SWITCH
    assert switch.release() == KillSwitch()
    losing = replace(STATE, daily_pnl=-60 * ONE)
    assert halt_reason(losing, LIMITS) is R.DAILY_LOSS_LIMIT
    assert halt_reason(losing, RiskLimits(halt_on_daily_loss=False)) is None


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
