import pytest
from hypothesis import given
from hypothesis import strategies as st

from prediction_engine.core.events import Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import (
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    InvalidOrderError,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderIntent,
    OrderStatus,
    TimeInForce,
    apply,
    fill_event,
    is_marketable,
)

MARKET = ConditionId("0x" + "ab" * 32)
TOKEN = TokenId("123")
S = OrderStatus
E = OrderEventKind


def order(status: OrderStatus = S.SUBMITTED, size: int = 10 * ONE, filled: int = 0) -> Order:
    return Order(
        client_id="c-1",
        market=MARKET,
        token=TOKEN,
        side=Side.BUY,
        price=400_000,
        size=size,
        status=status,
        filled=filled,
    )


def event(
    kind: OrderEventKind, fill_size: int = 0, venue_order_id: str | None = None, reason: str = ""
) -> OrderEvent:
    return OrderEvent(
        kind=kind, ts_ns=7, fill_size=fill_size, venue_order_id=venue_order_id, reason=reason
    )


def test_terminal_statuses() -> None:
    assert {S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED} == TERMINAL


def test_happy_path_gtc_partial_then_full() -> None:
    o = order()
    o = apply(o, event(E.ACCEPTED, venue_order_id="0xabc"))
    assert (o.status, o.venue_order_id, o.updated_ns) == (S.ACCEPTED, "0xabc", 7)
    o = apply(o, fill_event(o, 4 * ONE, 8))
    assert (o.status, o.filled, o.remaining) == (S.PARTIALLY_FILLED, 4 * ONE, 6 * ONE)
    o = apply(o, fill_event(o, 6 * ONE, 9))
    assert (o.status, o.filled, o.is_open) == (S.FILLED, 10 * ONE, False)
    assert o.venue_order_id == "0xabc"


def test_unknown_outcome_is_settled_by_the_next_venue_event() -> None:
    o = apply(order(), event(E.OUTCOME_UNKNOWN))
    assert o.status is S.SUBMITTED_UNKNOWN and o.is_open
    assert apply(o, event(E.ACCEPTED)).status is S.ACCEPTED
    assert apply(o, event(E.REJECTED, reason="not found")).reason == "not found"


def test_fak_partial_then_cancel_keeps_the_fill() -> None:
    o = apply(order(), fill_event(order(), 3 * ONE, 1))
    o = apply(o, event(E.CANCELLED, reason="FAK remainder"))
    assert (o.status, o.filled, o.reason) == (S.CANCELLED, 3 * ONE, "FAK remainder")


def test_late_acknowledgement_of_a_partly_filled_order() -> None:
    o = apply(order(), fill_event(order(), ONE, 1))
    assert apply(o, event(E.ACCEPTED)).status is S.PARTIALLY_FILLED


def test_venue_may_close_an_order_with_a_small_remainder() -> None:
    o = apply(order(S.ACCEPTED), event(E.FILLED, fill_size=10 * ONE - 10_000))
    assert (o.status, o.remaining) == (S.FILLED, 10_000)


@pytest.mark.parametrize(
    ("o", "e"),
    [
        (order(S.ACCEPTED), event(E.FILLED, fill_size=11 * ONE)),  # overfill
        (order(S.ACCEPTED), event(E.FILLED, fill_size=10 * ONE + 1)),  # by one micro-share
        (order(S.ACCEPTED), event(E.PARTIALLY_FILLED, fill_size=10 * ONE)),  # it completes
        (order(S.ACCEPTED), event(E.PARTIALLY_FILLED, fill_size=0)),
        (order(S.ACCEPTED), event(E.PARTIALLY_FILLED, fill_size=-1)),
        (order(S.ACCEPTED), event(E.CANCELLED, fill_size=ONE)),  # size on a non-fill
        (order(S.ACCEPTED), event(E.ACCEPTED)),  # duplicate ack
        (order(S.ACCEPTED), event(E.OUTCOME_UNKNOWN)),
        (order(S.SUBMITTED), event(E.EXPIRED)),
    ],
)
def test_illegal_events_raise(o: Order, e: OrderEvent) -> None:
    with pytest.raises(IllegalTransition):
        apply(o, e)


def test_order_validation() -> None:
    with pytest.raises(InvalidOrderError, match="size"):
        order(size=0)
    with pytest.raises(InvalidOrderError, match="filled"):
        order(filled=11 * ONE)
    with pytest.raises(InvalidOrderError, match="price"):
        OrderIntent(market=MARKET, token=TOKEN, side=Side.BUY, price=ONE, size=ONE)
    with pytest.raises(InvalidOrderError, match="GTD"):
        OrderIntent(
            market=MARKET,
            token=TOKEN,
            side=Side.BUY,
            price=1,
            size=ONE,
            time_in_force=TimeInForce.GTD,
        )
    with pytest.raises(InvalidOrderError, match="post-only"):
        OrderIntent(
            market=MARKET,
            token=TOKEN,
            side=Side.BUY,
            price=1,
            size=ONE,
            time_in_force=TimeInForce.FOK,
            post_only=True,
        )


def test_from_intent() -> None:
    intent = OrderIntent(
        market=MARKET,
        token=TOKEN,
        side=Side.SELL,
        price=550_000,
        size=5 * ONE,
        time_in_force=TimeInForce.GTD,
        expire_ns=99,
    )
    o = Order.from_intent(intent, "c-9", now_ns=5)
    assert (o.status, o.filled, o.expire_ns, o.created_ns, o.side) == (
        S.SUBMITTED,
        0,
        99,
        5,
        Side.SELL,
    )
    assert intent.notional == 2_750_000


def test_is_marketable() -> None:
    assert is_marketable(Side.BUY, 500_000, 480_000, 500_000)
    assert not is_marketable(Side.BUY, 490_000, 480_000, 500_000)
    assert is_marketable(Side.SELL, 480_000, 480_000, 500_000)
    assert not is_marketable(Side.SELL, 490_000, 480_000, 500_000)
    assert not is_marketable(Side.BUY, 990_000, 480_000, None)
    assert not is_marketable(Side.SELL, 10_000, None, 500_000)


# --- properties -------------------------------------------------------------------------------

ALL_PAIRS = [(s, e) for s in OrderStatus for e in OrderEventKind]
fill_sizes = st.integers(min_value=1, max_value=10 * ONE)


def order_in(status: OrderStatus) -> Order:
    # A partially filled order has some fill; every other status may have none.
    return order(status, filled=ONE if status is S.PARTIALLY_FILLED else 0)


def legal_event(o: Order, kind: OrderEventKind) -> OrderEvent:
    if kind is E.FILLED:
        return event(kind, fill_size=o.remaining)
    if kind is E.PARTIALLY_FILLED:
        return event(kind, fill_size=1)
    return event(kind)


@pytest.mark.parametrize(("status", "kind"), ALL_PAIRS)
def test_every_pair_follows_the_table(status: OrderStatus, kind: OrderEventKind) -> None:
    o = order_in(status)
    target = TRANSITIONS.get((status, kind))
    if target is None:
        with pytest.raises(IllegalTransition):
            apply(o, legal_event(o, kind))
    else:
        assert apply(o, legal_event(o, kind)).status is target


@given(st.sampled_from(sorted(TERMINAL)), st.sampled_from(list(OrderEventKind)), fill_sizes)
def test_terminal_states_accept_nothing(
    status: OrderStatus, kind: OrderEventKind, size: int
) -> None:
    o = order_in(status)
    fill = size if kind in (E.FILLED, E.PARTIALLY_FILLED) else 0
    with pytest.raises(IllegalTransition):
        apply(o, event(kind, fill_size=fill))


@given(st.lists(st.tuples(st.sampled_from(list(OrderEventKind)), fill_sizes), max_size=12))
def test_random_event_streams_keep_invariants(steps: list[tuple[OrderEventKind, int]]) -> None:
    o = order()
    applied_fills = 0
    for kind, size in steps:
        fill = size if kind in (E.FILLED, E.PARTIALLY_FILLED) else 0
        before = o
        try:
            o = apply(o, event(kind, fill_size=fill))
        except IllegalTransition:
            assert o == before
            continue
        assert (before.status, kind) in TRANSITIONS
        applied_fills += fill
        assert o.filled == applied_fills <= o.size
        assert (o.status is S.PARTIALLY_FILLED) <= (0 < o.filled < o.size)
        assert before.status not in TERMINAL
