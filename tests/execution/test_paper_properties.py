"""Properties of paper fills under every queue model, on random scripts of orders and market
events: fills never exceed the order, the traded volume or the displayed volume they came
from; no resting order is left crossed by size it could take; the queue ahead of an order stays
within [0, displayed]; a trade and the decrease it causes give the same result in either
order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from prediction_engine.core.commands import CancelOrder, SubmitOrder
from prediction_engine.core.events import Side
from prediction_engine.core.orders import Order, TimeInForce, apply
from prediction_engine.execution.liquidity import crossing_levels, lot, opposite
from prediction_engine.execution.queue import QUEUE_KINDS, QueueModel
from tests.execution.venue import BUY, MARKET, SELL, TOKEN, Levels, PaperVenue

TIF = TimeInForce
prices = st.integers(min_value=40, max_value=50).map(lambda c: c * 10_000)  # dense: crosses
sizes = st.integers(min_value=1, max_value=400).map(lambda c: c * 250_000)
levels = st.lists(st.tuples(prices, sizes), max_size=5, unique_by=lambda lv: lv[0])
gaps = st.sampled_from([0, 1_000_000, 50_000_000, 2_000_000_000])  # venue time between events
models = st.builds(
    QueueModel,
    kind=st.sampled_from(QUEUE_KINDS),
    power=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]),
    pair_window_ns=st.sampled_from([0, 100_000_000]),
)


@dataclass(frozen=True)
class Submit:
    side: Side
    price: int
    size: int
    tif: TimeInForce


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


Action = Submit | Cancel | SetLevel | Print | Snapshot
sides = st.sampled_from(Side)
actions: st.SearchStrategy[Action] = st.one_of(
    st.builds(Submit, sides, prices, sizes, st.sampled_from([TIF.GTC, TIF.GTC, TIF.FAK])),
    st.builds(Cancel, st.integers(0, 10)),
    st.builds(SetLevel, sides, prices, sizes | st.just(0)),
    st.builds(SetLevel, sides, prices, sizes | st.just(0)),
    st.builds(Print, sides | st.none(), prices, sizes),
    st.builds(Print, sides, prices, sizes),
    st.builds(Snapshot, levels, levels),
)


SCRIPTED = {
    "model": models,
    "bids": levels,
    "asks": levels,
    "script": st.lists(st.tuples(gaps, actions), min_size=1, max_size=40),
}
"""A queue model, a starting book and a script of timed actions."""


def played(
    v: PaperVenue, bids: Levels, asks: Levels, script: list[tuple[int, Action]]
) -> Iterator[tuple[Action, int, dict[str, Order]]]:
    """Start ``v`` from the book, then run the script; after each action yield it, the
    number of reports before it and the orders submitted so far."""
    v.snapshot_micro(bids, asks, 0)
    orders: dict[str, Order] = {}
    ts = 0
    for gap, action in script:
        ts += gap
        start = len(v.reports)
        run(v, action, ts, orders)
        yield action, start, orders


def displayed(v: PaperVenue, side: Side, price: int | None = None) -> int:
    """What one level (or a whole side) of the book displays; ``side`` BUY is the bids."""
    if price is not None:
        return v.book.bid_size(price) if side is BUY else v.book.ask_size(price)
    return sum(size for _, size in (v.book.bids() if side is BUY else v.book.asks()))


@settings(max_examples=300, deadline=None)
@given(**SCRIPTED)
def test_fills_stay_within_orders_trades_and_displayed_size(
    model: QueueModel, bids: Levels, asks: Levels, script: list[tuple[int, Action]]
) -> None:
    v = PaperVenue(model)
    for action, start, orders in played(v, bids, asks, script):
        by_side = {BUY: 0, SELL: 0}
        for report in v.reports[start:]:
            orders[report.client_id] = order = apply(orders[report.client_id], report.event)
            assert order.filled <= order.size
            if report.fill is not None:
                by_side[order.side] += report.fill.size
        if isinstance(action, Print):  # maker fills out of a trade: never more than it
            assert by_side[BUY] + by_side[SELL] <= action.size
            assert by_side[action.aggressor or BUY] == 0  # a buyer's trade fills no bid
        else:  # taker or crossing fills: out of the opposite side's displayed size
            assert by_side[BUY] <= displayed(v, SELL)
            assert by_side[SELL] <= displayed(v, BUY)
        for cid, order in v.paper.resting.items():
            ahead = v.ahead(cid)
            assert (ahead is None) == (model.kind == "back")
            assert 0 <= (ahead or 0) <= displayed(v, order.side, order.price)
            assert takeable(v, order) == 0


def takeable(v: PaperVenue, order: Order) -> int:
    """What ``order`` could still take from the displayed size crossing it."""
    level_side = opposite(order.side)
    return sum(
        lot(size - v.paper.consumed(TOKEN, level_side, price), order.remaining)
        for price, size in crossing_levels(v.book, order.side, order.price)
    )


def run(v: PaperVenue, action: Action, ts: int, orders: dict[str, Order]) -> None:
    if isinstance(action, Submit):
        order = Order(
            client_id=f"c{len(orders)}", market=MARKET, token=TOKEN, side=action.side,
            price=action.price, size=action.size, time_in_force=action.tif,
        )  # fmt: skip
        orders[order.client_id] = order
        v.paper.send(SubmitOrder(order=order, ts_ns=ts))
    elif isinstance(action, Cancel):
        v.paper.send(CancelOrder(client_id=f"c{action.n}", ts_ns=ts))
    elif isinstance(action, SetLevel):
        v.level_micro(action.side, action.price, action.size, ts)
    elif isinstance(action, Print):
        v.trade_micro(action.aggressor, action.price, action.size, ts)
    else:
        v.snapshot_micro(action.bids, action.asks, ts)


PRICE = 450_000


@settings(max_examples=200, deadline=None)
@given(
    model=models,
    start=sizes,
    ours=st.lists(sizes, min_size=1, max_size=3),
    history=st.lists(sizes | st.just(0), max_size=6),
    traded=sizes,
    joined=st.integers(0, 4).map(lambda c: c * 250_000),
)
def test_a_trade_and_its_decrease_give_the_same_fills_in_either_order(
    model: QueueModel,
    start: int,
    ours: list[int],
    history: list[int],
    traded: int,
    joined: int,
) -> None:
    results = []
    for trade_first in (True, False):
        v = PaperVenue(model)
        v.snapshot_micro([(PRICE, start)], [(PRICE + 50_000, 10**9)], 0)
        for n, size in enumerate(ours):
            v.paper.send(SubmitOrder(order=order(f"c{n}", size), ts_ns=0))
        ts = 0
        for size in history:  # joins and cancels, each on its own (no pairing)
            ts += 10**10
            v.level_micro(BUY, PRICE, size, ts)
        ts += 10**10
        # A seller takes ``traded`` (at most what is displayed); the level shows the
        # decrease, net of ``joined`` new shares that arrived in the same update.
        shown = v.book.bid_size(PRICE)
        size = min(traded, shown) if shown else traded
        after = shown - min(size, shown) + joined
        if trade_first:
            fills = v.trade_micro(SELL, PRICE, size, ts) + v.level_micro(BUY, PRICE, after, ts)
        else:
            fills = v.level_micro(BUY, PRICE, after, ts) + v.trade_micro(SELL, PRICE, size, ts)
        queue = {cid: v.ahead(cid) for cid in v.paper.resting}
        results.append((fills, queue))
    assert results[0] == results[1]


def order(cid: str, size: int) -> Order:
    return Order(
        client_id=cid, market=MARKET, token=TOKEN, side=BUY, price=PRICE, size=size,
        time_in_force=TIF.GTC,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(**SCRIPTED)
def test_events_of_unwatched_tokens_change_nothing(
    model: QueueModel, bids: Levels, asks: Levels, script: list[tuple[int, Action]]
) -> None:
    """The engine hands the client only the events of its ``watched`` tokens: a client that
    sees every event and one that sees only those report exactly the same."""
    every, gated = PaperVenue(model), PaperVenue(model, gated=True)
    for v in (every, gated):
        for _ in played(v, bids, asks, script):
            assert (TOKEN in v.paper.watched) == bool(
                v.paper.resting or any(
                    v.paper.consumed(TOKEN, side, price)
                    for side in Side for price in range(10_000, 1_000_000, 10_000)
                )
            )
    assert gated.reports == every.reports
    assert {cid: gated.ahead(cid) for cid in gated.paper.resting} == {
        cid: every.ahead(cid) for cid in every.paper.resting
    }
