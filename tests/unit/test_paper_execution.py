from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prediction_engine.core.book import OrderBook
from prediction_engine.core.commands import CancelOrder, ExecutionReport, SubmitOrder
from prediction_engine.core.events import BookDelta, BookSnapshot, Side, Trade
from prediction_engine.core.ids import ConditionId, TokenId, Venue
from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import parse_micro
from prediction_engine.core.orders import (
    Order,
    OrderEventKind,
    OrderIntent,
    OrderStatus,
    TimeInForce,
    apply,
)
from prediction_engine.execution import paper as paper_module
from prediction_engine.execution.paper import PaperExecution
from prediction_engine.execution.queue import QueueModel

MARKET = ConditionId("0x" + "ab" * 32)
TOKEN = TokenId("123")
OTHER = TokenId("456")
RATE = FeeSchedule(rate=Decimal("0.072"))
E = OrderEventKind
BUY, SELL = Side.BUY, Side.SELL
TIF = TimeInForce
Levels = list[tuple[int, int]]


def px(text: str) -> int:
    return parse_micro(text)


def sh(shares: float | str) -> int:
    return parse_micro(str(shares))


class Harness:
    """The engine's book of TOKEN plus a paper client reporting into a list."""

    def __init__(self, fees: FeeSchedule | None = RATE, queue: QueueModel | None = None) -> None:
        self.book = OrderBook()
        self.reports: list[ExecutionReport] = []
        self.paper = PaperExecution(
            lambda t: self.book if t == TOKEN else None,
            lambda t: fees,
            self.reports.append,
            queue=queue,
        )
        self._n = 0

    def snapshot(
        self, bids: Sequence[tuple[str, float]], asks: Sequence[tuple[str, float]], ts: int = 0
    ) -> None:
        self.snapshot_micro(
            [(px(p), sh(s)) for p, s in bids], [(px(p), sh(s)) for p, s in asks], ts
        )

    def delta(self, side: Side, price: str, size: float | str, ts: int = 0) -> None:
        self.delta_micro(side, px(price), sh(size), ts)

    def trade(self, aggressor: Side | None, price: str, size: float, ts: int = 0) -> None:
        self.trade_micro(aggressor, px(price), sh(size), ts)

    def snapshot_micro(self, bids: Levels, asks: Levels, ts: int) -> None:
        self.book.apply_snapshot(bids, asks)
        self.paper.on_market_event(
            BookSnapshot(
                venue=Venue.POLYMARKET, ts_event=ts, ts_recv=ts, market=MARKET, token=TOKEN,
                bids=tuple(bids), asks=tuple(asks),
            )
        )  # fmt: skip

    def delta_micro(self, side: Side, price: int, size: int, ts: int) -> None:
        self.book.set_level(side is BUY, price, size)
        self.paper.on_market_event(
            BookDelta(
                venue=Venue.POLYMARKET, ts_event=ts, ts_recv=ts, market=MARKET, token=TOKEN,
                side=side, price=price, size=size,
            )
        )  # fmt: skip

    def trade_micro(self, aggressor: Side | None, price: int, size: int, ts: int) -> None:
        self._n += 1
        self.paper.on_market_event(
            Trade(
                venue=Venue.POLYMARKET, ts_event=ts, ts_recv=ts, market=MARKET, token=TOKEN,
                price=price, size=size, aggressor=aggressor, trade_id=f"t{self._n}",
            )
        )  # fmt: skip

    def submit(
        self,
        side: Side,
        price: str,
        size: float,
        tif: TimeInForce = TIF.GTC,
        *,
        cid: str = "c1",
        post_only: bool = False,
        expire_ns: int | None = None,
        token: TokenId = TOKEN,
        ts: int = 0,
    ) -> list[ExecutionReport]:
        order = Order(
            client_id=cid, market=MARKET, token=token, side=side, price=px(price),
            size=sh(size), time_in_force=tif, post_only=post_only, expire_ns=expire_ns,
        )  # fmt: skip
        return self.send(SubmitOrder(order=order, ts_ns=ts))

    def send(self, command: SubmitOrder | CancelOrder) -> list[ExecutionReport]:
        start = len(self.reports)
        self.paper.send(command)
        return self.reports[start:]

    def since(self, start: int) -> list[tuple[E, int, int | None, int | None]]:
        return summary(self.reports[start:])


def summary(reports: Sequence[ExecutionReport]) -> list[tuple[E, int, int | None, int | None]]:
    """(kind, fill size, fill price, fee) of each report."""
    return [
        (
            r.event.kind,
            r.event.fill_size,
            r.fill.price if r.fill else None,
            r.fill.fee if r.fill else None,
        )
        for r in reports
    ]


@pytest.fixture
def venue() -> Harness:
    v = Harness()
    v.snapshot(bids=[("0.48", 5), ("0.47", 4), ("0.46", 100)], asks=[("0.50", 10), ("0.52", 20)])
    return v


def test_fok_fills_across_two_levels_with_exact_taker_fees(venue: Harness) -> None:
    reports = venue.submit(BUY, "0.55", 25, TIF.FOK, ts=7)
    # 10 x 0.072 x 0.50 x 0.50 = 0.18; 15 x 0.072 x 0.52 x 0.48 = 0.269568 -> 0.26956 (5 dp)
    assert summary(reports) == [
        (E.PARTIALLY_FILLED, sh(10), px("0.50"), px("0.18")),
        (E.FILLED, sh(15), px("0.52"), px("0.26956")),
    ]
    fill = reports[0].fill
    assert fill is not None
    assert (fill.side, fill.token, fill.market, fill.client_id, fill.ts_ns) == (
        BUY, TOKEN, MARKET, "c1", 7
    )  # fmt: skip
    assert len({r.fill.trade_id for r in reports if r.fill}) == 2
    assert venue.paper.resting == {}


@pytest.mark.parametrize(("price", "size"), [("0.55", 31), ("0.51", 11)])
def test_fok_not_fillable_is_killed_without_fills(venue: Harness, price: str, size: int) -> None:
    reports = venue.submit(BUY, price, size, TIF.FOK)
    assert summary(reports) == [(E.CANCELLED, 0, None, None)]
    assert reports[0].event.reason == paper_module.FOK_KILLED
    assert venue.paper.consumed(TOKEN, SELL, px("0.50")) == 0
    assert venue.paper.counters.killed == 1


def test_fak_fills_what_is_there_and_cancels_the_rest(venue: Harness) -> None:
    reports = venue.submit(SELL, "0.47", 15, TIF.FAK)
    # 5 x 0.072 x 0.48 x 0.52 = 0.089856 -> 0.08985; 4 x 0.072 x 0.47 x 0.53 = 0.0717408
    assert summary(reports) == [
        (E.PARTIALLY_FILLED, sh(5), px("0.48"), px("0.08985")),
        (E.PARTIALLY_FILLED, sh(4), px("0.47"), px("0.07174")),
        (E.CANCELLED, 0, None, None),
    ]
    assert reports[-1].event.reason == paper_module.FAK_REMAINDER


def test_fak_with_nothing_to_take_is_killed(venue: Harness) -> None:
    reports = venue.submit(SELL, "0.49", 15, TIF.FAK)
    assert summary(reports) == [(E.CANCELLED, 0, None, None)]
    assert reports[0].event.reason == paper_module.FAK_KILLED


def test_gtc_remainder_rests_then_fills_as_maker_at_its_price(venue: Harness) -> None:
    reports = venue.submit(BUY, "0.50", 15, ts=1)
    assert summary(reports) == [
        (E.ACCEPTED, 0, None, None),
        (E.PARTIALLY_FILLED, sh(10), px("0.50"), px("0.18")),
    ]
    resting = venue.paper.resting["c1"]
    assert (resting.status, resting.filled) == (OrderStatus.PARTIALLY_FILLED, sh(10))
    start = len(venue.reports)
    venue.delta(SELL, "0.51", 50, ts=2)  # does not cross 0.50; the consumed 0.50 gives nothing
    assert venue.reports[start:] == []
    venue.delta(SELL, "0.49", 3, ts=3)  # a seller crosses our bid: we fill at OUR price, no fee
    assert venue.since(start) == [(E.PARTIALLY_FILLED, sh(3), px("0.50"), 0)]
    assert venue.reports[-1].event.ts_ns == 3
    start = len(venue.reports)
    venue.snapshot(bids=[], asks=[("0.50", 8)], ts=4)  # snapshot: 0.50 x 8 is fresh liquidity
    assert venue.since(start) == [(E.FILLED, sh(2), px("0.50"), 0)]
    assert venue.paper.resting == {}
    assert venue.paper.counters.maker_fills == 2


def test_resting_orders_share_crossing_liquidity_best_price_first() -> None:
    v = Harness()
    v.snapshot(bids=[], asks=[("0.60", 10)])
    v.submit(BUY, "0.50", 5, cid="old")
    v.submit(BUY, "0.51", 5, cid="new")
    start = len(v.reports)
    v.delta(SELL, "0.50", 6)
    assert [(r.client_id, r.event.fill_size) for r in v.reports[start:]] == [
        ("new", sh(5)),
        ("old", sh(1)),
    ]
    assert v.paper.consumed(TOKEN, SELL, px("0.50")) == sh(6)


def test_post_only_that_would_cross_is_rejected(venue: Harness) -> None:
    reports = venue.submit(BUY, "0.50", 5, post_only=True)
    assert summary(reports) == [(E.REJECTED, 0, None, None)]
    assert reports[0].event.reason == paper_module.POST_ONLY_CROSSES
    assert venue.paper.resting == {}


def test_post_only_that_does_not_cross_rests(venue: Harness) -> None:
    reports = venue.submit(SELL, "0.49", 5, post_only=True)
    assert summary(reports) == [(E.ACCEPTED, 0, None, None)]
    assert reports[0].event.venue_order_id
    assert venue.paper.resting["c1"].status is OrderStatus.ACCEPTED


def test_consumed_liquidity_never_fills_twice(venue: Harness) -> None:
    assert summary(venue.submit(BUY, "0.50", 6, TIF.FAK, cid="a"))[0][:2] == (E.FILLED, sh(6))
    second = venue.submit(BUY, "0.50", 6, TIF.FAK, cid="b")
    assert summary(second) == [
        (E.PARTIALLY_FILLED, sh(4), px("0.50"), px("0.072")),  # 4 x 0.072 x 0.25
        (E.CANCELLED, 0, None, None),
    ]
    assert summary(venue.submit(BUY, "0.50", 1, TIF.FAK, cid="c"))[0][0] is E.CANCELLED


def test_a_shrinking_delta_releases_consumption(venue: Harness) -> None:
    venue.submit(BUY, "0.50", 6, TIF.FAK, cid="a")
    venue.delta(SELL, "0.50", 4)  # the 6 we took are gone from the venue's book too
    assert venue.paper.consumed(TOKEN, SELL, px("0.50")) == 0
    assert summary(venue.submit(BUY, "0.50", 6, TIF.FAK, cid="b"))[0][:2] == (
        E.PARTIALLY_FILLED, sh(4)
    )  # fmt: skip


def test_a_growing_delta_keeps_consumption_and_a_snapshot_resets_it(venue: Harness) -> None:
    venue.submit(BUY, "0.50", 6, TIF.FAK, cid="a")
    venue.delta(SELL, "0.50", 15)
    assert venue.paper.consumed(TOKEN, SELL, px("0.50")) == sh(6)
    assert summary(venue.submit(BUY, "0.50", 20, TIF.FAK, cid="b"))[0][:2] == (
        E.PARTIALLY_FILLED, sh(9)
    )  # fmt: skip
    venue.snapshot(bids=[], asks=[("0.50", 10)])
    assert venue.paper.consumed(TOKEN, SELL, px("0.50")) == 0
    assert summary(venue.submit(BUY, "0.50", 10, TIF.FOK, cid="c"))[0][:2] == (E.FILLED, sh(10))


def test_a_level_set_to_zero_forgets_consumption(venue: Harness) -> None:
    venue.submit(BUY, "0.50", 10, TIF.FAK, cid="a")
    venue.delta(SELL, "0.50", 0)
    venue.delta(SELL, "0.50", 3)
    assert summary(venue.submit(BUY, "0.50", 3, TIF.FOK, cid="b"))[0][:2] == (E.FILLED, sh(3))


def test_fill_sizes_round_down_to_the_venue_size_step() -> None:
    v = Harness()
    v.snapshot(bids=[], asks=[("0.50", 10.005)])
    assert summary(v.submit(BUY, "0.50", 11, TIF.FAK, cid="a"))[0][:2] == (
        E.PARTIALLY_FILLED, sh(10)
    )  # fmt: skip
    # 0.005 share is left displayed: less than one step, so nothing fills
    assert summary(v.submit(BUY, "0.50", 1, TIF.FAK, cid="b")) == [(E.CANCELLED, 0, None, None)]


def test_trade_through_fills_resting_orders_and_back_kind_never_fills_at_our_price() -> None:
    # Before queue modelling every resting order was at the back of its queue; that rule
    # lives on as QueueModel(kind="back"), which this test now asks for by name.
    v = Harness(queue=QueueModel(kind="back"))
    v.snapshot(bids=[("0.44", 10)], asks=[("0.50", 10)])
    v.submit(BUY, "0.45", 10, cid="old")
    v.submit(BUY, "0.46", 5, cid="new")
    start = len(v.reports)
    v.trade(SELL, "0.45", 20)  # at old's price: back of the queue, no fill; new is through
    v.trade(BUY, "0.40", 5)  # a buyer's trade never fills our bids
    v.trade(None, "0.30", 5)  # unknown aggressor: ignored
    assert [(r.client_id, r.event.fill_size) for r in v.reports[start:]] == [("new", sh(5))]
    start = len(v.reports)
    v.trade(SELL, "0.44", 7, ts=9)  # 5 filled new already, so all 7 go to old
    assert v.since(start) == [(E.PARTIALLY_FILLED, sh(7), px("0.45"), 0)]
    assert v.reports[-1].event.ts_ns == 9
    start = len(v.reports)
    v.trade(SELL, "0.43", 100)
    assert v.since(start) == [(E.FILLED, sh(3), px("0.45"), 0)]
    assert v.paper.resting == {}


def test_trade_at_our_price_fills_an_order_with_nothing_displayed_ahead() -> None:
    # The default queue model: old rests at 0.45 where nothing is displayed, so nothing is
    # ahead of it and a trade at 0.45 fills it (the "back" test above shows the old rule).
    v = Harness()
    v.snapshot(bids=[("0.44", 10)], asks=[("0.50", 10)])
    v.submit(BUY, "0.45", 10, cid="old")
    v.submit(BUY, "0.46", 5, cid="new")
    start = len(v.reports)
    v.trade(SELL, "0.45", 20)  # new is through: 5; old takes min(10, 20 - 5 - ahead 0) = 10
    assert [(r.client_id, r.event.fill_size) for r in v.reports[start:]] == [
        ("new", sh(5)),
        ("old", sh(10)),
    ]
    assert v.paper.resting == {}


def test_trade_through_a_resting_sell() -> None:
    # The old rule (kind="back"): a buy at our ask does not fill us, one above it does.
    # With the default model the first trade would fill: nothing is displayed at 0.49.
    venue = Harness(queue=QueueModel(kind="back"))  # the `venue` fixture's book:
    venue.snapshot(
        bids=[("0.48", 5), ("0.47", 4), ("0.46", 100)], asks=[("0.50", 10), ("0.52", 20)]
    )
    venue.submit(SELL, "0.49", 5)
    venue.trade(BUY, "0.49", 5)
    assert venue.paper.resting["c1"].filled == 0
    venue.trade(BUY, "0.50", 2)
    assert venue.paper.resting["c1"].filled == sh(2)


def test_gtd_expires_on_time(venue: Harness) -> None:
    venue.submit(BUY, "0.40", 5, TIF.GTD, expire_ns=1_000, cid="gtd")
    venue.submit(BUY, "0.41", 5, TIF.GTD, expire_ns=500, cid="filled")
    venue.trade(SELL, "0.30", 5)  # 0.41 first (better price): closes "filled"
    start = len(venue.reports)
    venue.paper.on_time(999)
    assert venue.reports[start:] == []
    venue.paper.on_time(1_000)
    assert venue.since(start) == [(E.EXPIRED, 0, None, None)]
    assert venue.reports[-1].client_id == "gtd"
    assert venue.reports[-1].event.ts_ns == 1_000
    assert venue.paper.resting == {}
    assert venue.paper.counters.expired == 1


def test_gtd_already_expired_at_submission_is_rejected(venue: Harness) -> None:
    reports = venue.submit(BUY, "0.40", 5, TIF.GTD, expire_ns=10, ts=10)
    assert summary(reports) == [(E.REJECTED, 0, None, None)]


def test_cancel_of_a_resting_order(venue: Harness) -> None:
    venue.submit(BUY, "0.40", 5)
    reports = venue.send(CancelOrder(client_id="c1", ts_ns=5))
    assert summary(reports) == [(E.CANCELLED, 0, None, None)]
    assert (reports[0].event.reason, reports[0].event.ts_ns) == (paper_module.USER_CANCEL, 5)
    assert venue.paper.resting == {}
    assert venue.send(CancelOrder(client_id="c1")) == []  # already closed: nothing


def test_cancel_of_an_unknown_id_is_ignored_and_counted(venue: Harness) -> None:
    assert venue.send(CancelOrder(client_id="nope", reason="why not")) == []
    assert venue.paper.counters.cancel_unknown == 1


def test_no_book_or_invalid_book_or_off_tick_is_rejected() -> None:
    v = Harness()  # the book never had a snapshot: not valid
    assert v.submit(BUY, "0.40", 5)[0].event.reason == paper_module.NO_BOOK
    v.snapshot(bids=[], asks=[("0.50", 10)])
    assert v.submit(BUY, "0.40", 5, token=OTHER)[0].event.reason == paper_module.NO_BOOK
    assert v.submit(BUY, "0.405", 5)[0].event.reason == paper_module.OFF_TICK
    assert v.paper.counters.rejected == 3
    assert all(r.event.kind is E.REJECTED for r in v.reports)


def test_no_fee_schedule_means_no_fee() -> None:
    v = Harness(fees=None)
    v.snapshot(bids=[], asks=[("0.50", 10)])
    assert summary(v.submit(BUY, "0.50", 10, TIF.FOK)) == [(E.FILLED, sh(10), px("0.50"), 0)]


def test_the_engine_book_is_never_mutated(venue: Harness) -> None:
    before = (venue.book.bids(), venue.book.asks())
    venue.submit(BUY, "0.55", 25, TIF.FOK)
    venue.submit(SELL, "0.46", 50, cid="c2")
    assert (venue.book.bids(), venue.book.asks()) == before


# -- property: any sequence of commands and market events yields legal lifecycles ---------

prices = st.integers(min_value=40, max_value=60).map(lambda c: c * 10_000)  # dense: crosses
sizes = st.integers(min_value=1, max_value=2_000).map(lambda c: c * 5_000)
levels = st.lists(st.tuples(prices, sizes), max_size=6, unique_by=lambda lv: lv[0])


@dataclass(frozen=True)
class Submit:
    intent: OrderIntent


@dataclass(frozen=True)
class Cancel:
    n: int


@dataclass(frozen=True)
class SetLevel:
    side: Side
    price: int
    size: int


@dataclass(frozen=True)
class Print:
    aggressor: Side | None
    price: int
    size: int


@dataclass(frozen=True)
class Snapshot:
    bids: Levels
    asks: Levels


@dataclass(frozen=True)
class Tick:
    pass


Action = Submit | Cancel | SetLevel | Print | Snapshot | Tick


@st.composite
def intents(draw: st.DrawFn) -> OrderIntent:
    tif = draw(st.sampled_from(TimeInForce))
    resting = tif in (TIF.GTC, TIF.GTD)
    return OrderIntent(
        market=MARKET, token=TOKEN, side=draw(st.sampled_from(Side)), price=draw(prices),
        size=draw(sizes), time_in_force=tif, post_only=resting and draw(st.booleans()),
        expire_ns=draw(st.integers(0, 40)) if tif is TIF.GTD else None,
    )  # fmt: skip


sides = st.sampled_from(Side)
actions: st.SearchStrategy[Action] = st.one_of(
    st.builds(Submit, intents()),
    st.builds(Submit, intents()),
    st.builds(Cancel, st.integers(0, 20)),
    st.builds(SetLevel, sides, prices, sizes | st.just(0)),
    st.builds(Print, sides | st.none(), prices, sizes),
    st.builds(Snapshot, levels, levels),
    st.builds(Tick),
)


@settings(max_examples=300, deadline=None)
@given(bids=levels, asks=levels, script=st.lists(actions, min_size=1, max_size=40))
def test_reports_always_follow_the_lifecycle(
    bids: Levels, asks: Levels, script: list[Action]
) -> None:
    v = Harness()
    v.book.apply_snapshot(bids, asks)
    orders: dict[str, Order] = {}
    fills: dict[str, int] = {}
    for ts, action in enumerate(script, start=1):
        start = len(v.reports)
        run(v, action, ts, orders)
        for report in v.reports[start:]:
            order = orders[report.client_id]
            orders[report.client_id] = apply(order, report.event)  # raises if illegal
            if report.fill is not None:
                check_fill(order, report)
                fills[report.client_id] = fills.get(report.client_id, 0) + report.fill.size
        check_consumption(v)
    for cid, order in orders.items():
        assert fills.get(cid, 0) == order.filled
        assert (cid in v.paper.resting) == order.is_open
        if order.is_open:
            assert v.paper.resting[cid] == order
    assert v.paper.counters.submitted == len(orders)


def check_fill(order: Order, report: ExecutionReport) -> None:
    fill = report.fill
    assert fill is not None
    assert fill.size == report.event.fill_size > 0
    assert fill.price <= order.price if order.side is BUY else fill.price >= order.price
    assert (fill.side, fill.client_id) == (order.side, order.client_id)


def check_consumption(v: Harness) -> None:
    """What we consumed at a level never exceeds what the level displays."""
    for price in range(10_000, 1_000_000, 10_000):
        assert 0 <= v.paper.consumed(TOKEN, BUY, price) <= v.book.bid_size(price)
        assert 0 <= v.paper.consumed(TOKEN, SELL, price) <= v.book.ask_size(price)


def run(v: Harness, action: Action, ts: int, orders: dict[str, Order]) -> None:
    if isinstance(action, Submit):
        order = Order.from_intent(action.intent, f"c{len(orders)}", ts)
        orders[order.client_id] = order
        v.paper.send(SubmitOrder(order=order, ts_ns=ts))
    elif isinstance(action, Cancel):
        v.paper.send(CancelOrder(client_id=f"c{action.n}", ts_ns=ts))
    elif isinstance(action, SetLevel):
        v.delta_micro(action.side, action.price, action.size, ts)
    elif isinstance(action, Print):
        v.trade_micro(action.aggressor, action.price, action.size, ts)
    elif isinstance(action, Snapshot):
        v.snapshot_micro(action.bids, action.asks, ts)
    else:
        v.paper.on_time(ts)


def test_taker_fills_never_exceed_displayed_size() -> None:
    v = Harness()
    v.snapshot(bids=[], asks=[("0.50", 10), ("0.51", 10)])
    total = 0
    for i in range(5):
        total += sum(r.event.fill_size for r in v.submit(BUY, "0.51", 7, TIF.FAK, cid=f"c{i}"))
    assert total == sh(20)
