"""Queue position of resting orders on hand-built scenarios; the expected fills are worked out
in the comments (sizes in shares, the book's bid side at 0.40 unless said otherwise)."""

from __future__ import annotations

import pytest

from prediction_engine.core.commands import CancelOrder
from prediction_engine.core.orders import TimeInForce
from prediction_engine.execution.queue import QueueModel
from tests.execution.venue import BUY, SELL, TOKEN, PaperVenue, S, sh


def resting_buy(
    queue: QueueModel | None = None, displayed: float = 100, size: float = 10
) -> PaperVenue:
    """Our BUY ``size`` at 0.40 resting behind ``displayed`` shares bid at 0.40."""
    v = PaperVenue(queue)
    v.snapshot(bids=[("0.40", displayed), ("0.39", 500)], asks=[("0.45", 500)])
    assert v.submit(BUY, "0.40", size) == []  # nothing to take: it rests
    return v


def test_trades_then_a_cancel_then_a_trade_that_reaches_us() -> None:
    v = resting_buy()
    assert v.ahead() == sh(100)  # we join behind the whole displayed 100
    # A seller takes 30 at 0.40: the queue ahead eats it all, 100 - 30 = 70 ahead, no fill.
    assert v.trade(SELL, "0.40", 30, ts=1 * S) == []
    assert v.ahead() == sh(70)
    # The book shows that trade: 100 -> 70. The trade explains the 30: not a cancel too.
    v.level(BUY, "0.40", 70, ts=1 * S)
    assert v.ahead() == sh(70)
    # 70 -> 20 with nothing traded: a cancel of 50. ahead 70, behind 70 - 70 = 0, so with
    # f(x) = x**2, P(ahead) = 70**2 / (70**2 + 0**2) = 1: the queue ahead is 70 - 50 = 20.
    v.level(BUY, "0.40", 20, ts=2 * S)
    assert v.ahead() == sh(20)
    # A seller takes 40 at 0.40: 20 of it is ahead of us, 40 - 20 = 20 reaches us, and we
    # want only 10: filled 10 at our price.
    assert v.trade(SELL, "0.40", 40, ts=3 * S) == [("c1", sh(10))]
    assert v.paper.resting == {}
    assert v.reports[-1].fill is not None and v.reports[-1].fill.price == sh("0.40")


def test_a_cancel_splits_between_ahead_and_behind_by_the_power_model() -> None:
    v = resting_buy()
    v.level(BUY, "0.40", 150, ts=1 * S)  # 50 join behind us: ahead 100, behind 50
    assert v.ahead() == sh(100)
    # 150 -> 90 with nothing traded: a cancel of 60. P(ahead) = 100**2 / (100**2 + 50**2)
    # = 10000 / 12500 = 0.8: 60 x 0.8 = 48 of it was ahead of us, 12 behind (50 can hold 12).
    v.level(BUY, "0.40", 90, ts=2 * S)
    assert v.ahead() == sh(100 - 48)
    # A seller takes 60: 60 - 52 = 8 reaches us (of our 10).
    assert v.trade(SELL, "0.40", 60, ts=3 * S) == [("c1", sh(8))]
    assert v.ahead() == 0


@pytest.mark.parametrize(
    ("model", "ahead_after_cancel"),
    [
        # f(x) = x: P = 100 / 150 = 2/3; 60 x 2/3 = 40 ahead -> 100 - 40 = 60
        (QueueModel(power=1.0), sh(60)),
        # f(x) = x**3: P = 1e6 / (1e6 + 125e3) = 8/9; 60 x 8/9 = 53.333333 rounded down to the
        # micro-share -> 100 - 53.333333 = 46.666667
        (QueueModel(power=3.0), sh("46.666667")),
        # f(x) = x**0.5 (float path): P = 10 / (10 + 7.0710678) = 0.585786...; 60 x P =
        # 35.147186 (rounded down) -> 64.852814
        (QueueModel(power=0.5), sh("64.852814")),
        # risk averse: cancels are behind us while behind (50) can hold them; the other 10
        # of the 60 were ahead -> 90
        (QueueModel(kind="risk_averse"), sh(90)),
        # front: nothing is ever ahead of us
        (QueueModel(kind="front"), 0),
    ],
)
def test_the_queue_after_a_cancel_under_each_model(
    model: QueueModel, ahead_after_cancel: int
) -> None:
    v = resting_buy(model)
    v.level(BUY, "0.40", 150, ts=1 * S)  # ahead 100, behind 50
    v.level(BUY, "0.40", 90, ts=2 * S)  # a cancel of 60
    assert v.ahead() == ahead_after_cancel


def test_a_cancel_larger_than_what_is_behind_us_takes_the_rest_from_ahead() -> None:
    v = resting_buy(QueueModel(kind="risk_averse"))
    v.level(BUY, "0.40", 120, ts=1 * S)  # ahead 100, behind 20
    # 120 -> 50: a cancel of 70. Even risk averse, behind held only 20: 50 came from ahead.
    v.level(BUY, "0.40", 50, ts=2 * S)
    assert v.ahead() == sh(50)
    v.level(BUY, "0.40", 10, ts=3 * S)  # the level shrinks below our place: ahead <= displayed
    assert v.ahead() == sh(10)


def test_growth_joins_behind_us() -> None:
    v = resting_buy()
    v.level(BUY, "0.40", 1_000, ts=1 * S)
    assert v.ahead() == sh(100)
    # A trade of 150: 100 ahead of us, 10 to us; the 40 beyond us came from the new 900.
    assert v.trade(SELL, "0.40", 150, ts=2 * S) == [("c1", sh(10))]


@pytest.mark.parametrize("trade_first", [True, False])
def test_trade_and_the_decrease_it_causes_count_once_in_either_order(trade_first: bool) -> None:
    v = resting_buy(size=30)
    v.level(BUY, "0.40", 150, ts=1 * S)  # ahead 100, behind 50
    # A seller takes 120 at 0.40 at t = 2 s; the level shows 150 -> 30.
    # Trade first: 120 - 100 ahead = 20 reach us (we want 30): fill 20; the credit of 120
    # explains the whole decrease of 120.
    # Decrease first: taken as a cancel of 120: P = 0.8, 96 ahead, 24 behind: ahead 4. The
    # trade then matches that pending decrease, gives the 96 back (ahead 100) and eats it:
    # again 120 - 100 = 20 fill us.
    if trade_first:
        got = v.trade(SELL, "0.40", 120, ts=2 * S) + v.level(BUY, "0.40", 30, ts=2 * S)
    else:
        got = v.level(BUY, "0.40", 30, ts=2 * S) + v.trade(SELL, "0.40", 120, ts=2 * S)
    assert got == [("c1", sh(20))]
    assert v.ahead() == 0
    # Afterwards both agree too: a genuine cancel 30 -> 20 has nothing ahead to take.
    v.level(BUY, "0.40", 20, ts=3 * S)
    assert v.ahead() == 0
    assert v.trade(SELL, "0.40", 5, ts=4 * S) == [("c1", sh(5))]


@pytest.mark.parametrize("trade_first", [True, False])
def test_order_does_not_matter_when_the_trade_leaves_us_in_the_queue(trade_first: bool) -> None:
    v = resting_buy()
    v.level(BUY, "0.40", 150, ts=1 * S)  # ahead 100, behind 50
    # A seller takes 60; 150 -> 90. Trade first: ahead 100 - 60 = 40, the decrease is
    # explained. Decrease first: a cancel of 60, 48 ahead (P = 0.8): ahead 52; the trade gives
    # the 48 back and eats 60: 40.
    if trade_first:
        got = v.trade(SELL, "0.40", 60, ts=2 * S) + v.level(BUY, "0.40", 90, ts=2 * S)
    else:
        got = v.level(BUY, "0.40", 90, ts=2 * S) + v.trade(SELL, "0.40", 60, ts=2 * S)
    assert got == []
    assert v.ahead() == sh(40)


def test_the_simulator_order_trade_then_book_snapshot() -> None:
    # The simulator sends last_trade_price, then a `book` of the token (not a price_change).
    v = resting_buy()
    assert v.trade(SELL, "0.40", 30, ts=1 * S) == []  # ahead 100 - 30 = 70
    v.snapshot(bids=[("0.40", 70), ("0.39", 500)], asks=[("0.45", 500)], ts=1 * S)
    assert v.ahead() == sh(70)  # the snapshot's 100 -> 70 is that trade, not a cancel
    v.snapshot(bids=[("0.39", 500)], asks=[("0.45", 500)], ts=2 * S)  # level gone: nothing ahead
    assert v.ahead() == 0


def test_a_trade_and_a_decrease_further_apart_than_the_window_are_not_paired() -> None:
    v = resting_buy(QueueModel(pair_window_ns=1 * S))
    assert v.trade(SELL, "0.40", 30, ts=0) == []  # ahead 70, credit 30
    # 2 s later the level shows 100 -> 70: the credit has lapsed, so it counts as a cancel
    # too. The level still displayed 100 then: ahead 70, behind 30; P = 70**2 / (70**2 +
    # 30**2) = 4900 / 5800; 30 x P = 25.344827 (rounded down): 70 - 25.344827 = 44.655173.
    v.level(BUY, "0.40", 70, ts=2 * S)
    assert v.ahead() == sh("44.655173")


def test_two_of_our_orders_at_one_price_share_the_trade() -> None:
    v = PaperVenue()
    v.snapshot(bids=[("0.40", 20)], asks=[("0.45", 500)])
    v.submit(BUY, "0.40", 10, cid="old")  # behind 20
    v.submit(BUY, "0.40", 10, cid="new")  # behind the same 20 (ours are not displayed)
    # A seller takes 35: old gets 35 - 20 = 15, capped at 10; new gets what is left after
    # old (35 - 10 = 25) beyond its 20 ahead: 5. Together 15 = 35 - 20 displayed ahead.
    assert v.trade(SELL, "0.40", 35, ts=1 * S) == [("old", sh(10)), ("new", sh(5))]


def test_a_trade_through_our_price_fills_us_as_before() -> None:
    v = resting_buy()  # 100 ahead of us at 0.40
    # A sale at 0.39 went through every bid at 0.40, us included: min(7, 10) = 7.
    assert v.trade(SELL, "0.39", 7, ts=1 * S) == [("c1", sh(7))]
    # A buyer's trade at 0.40 never fills a bid.
    assert v.trade(BUY, "0.40", 500, ts=2 * S) == []


def test_a_resting_sell_is_queued_on_the_ask_side() -> None:
    v = PaperVenue()
    v.snapshot(bids=[("0.40", 100)], asks=[("0.45", 25)])
    v.submit(SELL, "0.45", 10)
    assert v.ahead() == sh(25)
    assert v.trade(SELL, "0.45", 100, ts=1 * S) == []  # a seller's trade never fills an ask
    assert v.trade(BUY, "0.45", 30, ts=2 * S) == [("c1", sh(5))]  # 30 - 25 ahead


def test_the_queue_starts_behind_what_we_have_not_consumed_there() -> None:
    v = PaperVenue()
    v.snapshot(bids=[("0.40", 100)], asks=[("0.45", 500)])
    # Our FAK sells 30 into the bid: 30 of the 100 displayed at 0.40 are ours now.
    assert v.submit(SELL, "0.40", 30, TimeInForce.FAK, cid="fak") == [("fak", sh(30))]
    v.submit(BUY, "0.40", 10)
    assert v.ahead() == sh(100 - 30)


def test_front_fills_on_any_trade_at_our_price() -> None:
    v = resting_buy(QueueModel(kind="front"))
    assert v.ahead() == 0
    assert v.trade(SELL, "0.40", 4, ts=1 * S) == [("c1", sh(4))]
    assert v.trade(SELL, "0.40", 50, ts=2 * S) == [("c1", sh(6))]


def test_back_reproduces_the_rule_before_queues() -> None:
    v = resting_buy(QueueModel(kind="back"))
    assert v.ahead() is None  # no queue is kept
    v.level(BUY, "0.40", 0, ts=1 * S)  # everything ahead of us gone: still no fill at our price
    assert v.trade(SELL, "0.40", 1_000, ts=2 * S) == []
    assert v.trade(SELL, "0.39", 4, ts=3 * S) == [("c1", sh(4))]  # through our price: filled
    v.level(SELL, "0.40", 3, ts=4 * S)  # the book crosses our bid: filled from the displayed 3
    assert v.paper.resting["c1"].filled == sh(7)


def test_the_book_crossing_our_price_still_fills_from_displayed_size() -> None:
    v = resting_buy()
    # A seller rests at 0.40 across our bid: we fill from those 3 displayed shares at once,
    # whatever the queue ahead (a crossed book is not a queue).
    assert v.level(SELL, "0.40", 3, ts=1 * S) == [("c1", sh(3))]
    assert v.paper.consumed(TOKEN, SELL, sh("0.40")) == sh(3)


def test_a_closed_order_leaves_its_queue() -> None:
    v = resting_buy()
    v.send(CancelOrder(client_id="c1", ts_ns=1))
    assert v.ahead() is None
    assert v.trade(SELL, "0.40", 1_000, ts=2 * S) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "middle"}, "queue kind"),
        ({"power": -1.0}, "queue power"),
        ({"power": float("nan")}, "queue power"),
        ({"pair_window_ns": -1}, "pair window"),
    ],
)
def test_a_bad_queue_model_is_a_config_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QueueModel(**kwargs)  # type: ignore[arg-type]


def test_a_cancel_then_a_trade_within_the_window_are_taken_for_one_trade() -> None:
    # The pessimistic side of the pairing window (default 100 ms), pinned down.
    v = resting_buy()
    v.level(BUY, "0.40", 150, ts=1 * S)  # ahead 100, behind 50
    v.level(BUY, "0.40", 90, ts=2 * S)  # a cancel of 60: 48 ahead (P = 0.8), ahead 52
    assert v.ahead() == sh(52)
    # 10 ms later a seller takes 60. Far apart it would fill 60 - 52 = 8; this close it is
    # taken for the cause of that decrease: the 48 come back (ahead 100) and 60 < 100.
    assert v.trade(SELL, "0.40", 60, ts=2 * S + 10_000_000) == []
    assert v.ahead() == sh(40)
    # The trade's own decrease, 90 -> 30, then counts as the cancel (credit is 0): shown 90,
    # ahead 40, behind 50: P = 40**2 / (40**2 + 50**2) = 1600 / 4100; 60 x P = 23.414634
    # (rounded down): ahead 40 - 23.414634 = 16.585366.
    v.level(BUY, "0.40", 30, ts=2 * S + 10_000_000)
    assert v.ahead() == sh("16.585366")
