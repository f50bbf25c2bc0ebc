"""Liquidity consumption on hand-built scenarios: the same displayed size never fills twice.
Expected fills are worked out in the comments (sizes in shares)."""

from __future__ import annotations

from prediction_engine.core.commands import CancelOrder
from prediction_engine.core.orders import Order, OrderEvent, OrderEventKind, TimeInForce, apply
from tests.execution.venue import BUY, MARKET, SELL, TOKEN, PaperVenue, S, px, sh

FAK, FOK = TimeInForce.FAK, TimeInForce.FOK


def venue() -> PaperVenue:
    v = PaperVenue()
    v.snapshot(bids=[("0.40", 50)], asks=[("0.50", 10), ("0.51", 20)])
    return v


def test_a_second_fak_gets_only_what_the_first_left() -> None:
    v = venue()
    assert v.submit(BUY, "0.50", 6, FAK, cid="a") == [("a", sh(6))]  # 10 displayed: 6 taken
    # The book still displays 10 at 0.50 (the engine's book is the venue's, not ours), but 6
    # of it is consumed: 10 - 6 = 4 are left for the second.
    assert v.submit(BUY, "0.50", 6, FAK, cid="b") == [("b", sh(4))]
    assert v.submit(BUY, "0.50", 1, FAK, cid="c") == []  # 10 - 10 = 0 left
    # A FOK for 20 up to 0.51 would need 0 + 20 = 20: exactly what 0.51 displays.
    assert v.submit(BUY, "0.51", 20, FOK, cid="d") == [("d", sh(20))]
    assert v.paper.consumed(TOKEN, SELL, sh("0.50")) == sh(10)
    assert v.paper.consumed(TOKEN, SELL, sh("0.51")) == sh(20)


def test_a_level_that_shrinks_after_our_take_releases_that_much_consumption() -> None:
    v = venue()
    v.submit(BUY, "0.50", 6, FAK, cid="a")  # consumed 6 of the displayed 10
    # The venue's level goes 10 -> 7: someone took or pulled 3, assumed to be part of the 6
    # we took (a shrink contains our consumption): consumed 6 - 3 = 3, available 7 - 3 = 4.
    v.level(SELL, "0.50", 7, ts=1 * S)
    assert v.paper.consumed(TOKEN, SELL, sh("0.50")) == sh(3)
    assert v.submit(BUY, "0.50", 6, FAK, cid="b") == [("b", sh(4))]
    # Now consumed 3 + 4 = 7 of 7. The level grows to 12: growth keeps the consumption,
    # 12 - 7 = 5 are new and available.
    v.level(SELL, "0.50", 12, ts=2 * S)
    assert v.submit(BUY, "0.50", 9, FAK, cid="c") == [("c", sh(5))]
    # Consumed 7 + 5 = 12 of 12. 12 -> 2 releases the 10 the level lost: consumed
    # 12 - 10 = 2 of the 2 displayed, nothing left.
    v.level(SELL, "0.50", 2, ts=3 * S)
    assert v.submit(BUY, "0.50", 1, FAK, cid="d") == []


def test_a_level_set_to_zero_or_a_snapshot_forgets_consumption() -> None:
    v = venue()
    v.submit(BUY, "0.50", 10, FAK, cid="a")  # all 10 consumed
    v.level(SELL, "0.50", 0, ts=1 * S)  # gone: forgotten
    v.level(SELL, "0.50", 3, ts=2 * S)  # 3 fresh shares
    assert v.submit(BUY, "0.50", 3, FOK, cid="b") == [("b", sh(3))]
    v.snapshot(bids=[("0.40", 50)], asks=[("0.50", 3)], ts=3 * S)  # a snapshot: all fresh
    assert v.submit(BUY, "0.50", 3, FOK, cid="c") == [("c", sh(3))]


def test_resting_orders_crossed_by_the_book_share_the_displayed_size() -> None:
    v = venue()
    v.submit(BUY, "0.45", 4, cid="old")
    v.submit(BUY, "0.46", 4, cid="new")
    # A seller's 5 rest at 0.45, across both bids: better price first: new 4 (0.46), then
    # old gets the 5 - 4 = 1 left. Both at their own prices.
    assert v.level(SELL, "0.45", 5, ts=1 * S) == [("new", sh(4)), ("old", sh(1))]
    assert [r.fill.price for r in v.reports[-2:] if r.fill] == [sh("0.46"), sh("0.45")]
    # The same 5 displayed again (a repeated delta) fills nobody: all 5 are consumed.
    assert v.level(SELL, "0.45", 5, ts=2 * S) == []
    # 5 -> 8: 3 more shares; old wants 3 more: it gets them.
    assert v.level(SELL, "0.45", 8, ts=3 * S) == [("old", sh(3))]


def test_a_taker_and_a_crossed_resting_order_never_take_the_same_shares() -> None:
    v = venue()
    v.submit(BUY, "0.49", 10, cid="rest")
    v.level(SELL, "0.49", 6, ts=1 * S)  # crosses our bid: rest fills 6 of the 6
    assert v.paper.resting["rest"].filled == sh(6)
    # A FAK at 0.49 finds 6 displayed at 0.49, all consumed: nothing.
    assert v.submit(BUY, "0.49", 6, FAK, cid="fak") == []


def test_a_token_is_watched_while_an_order_rests_or_liquidity_is_consumed() -> None:
    v = PaperVenue(gated=True)
    v.snapshot([("0.40", 100)], [("0.45", 100)])
    assert TOKEN not in v.paper.watched  # nothing of ours: its events need not be seen
    assert v.submit(BUY, "0.45", 30, TimeInForce.FAK, cid="t") == [("t", sh(30))]
    assert TOKEN in v.paper.watched  # 30 of the 100 displayed at 0.45 are ours now
    v.level(SELL, "0.45", 70)  # the venue shows the consumption: the record is released
    assert TOKEN not in v.paper.watched
    v.submit(BUY, "0.41", 10, cid="r")  # rests
    assert TOKEN in v.paper.watched
    v.send(CancelOrder(client_id="r", ts_ns=0))
    assert TOKEN not in v.paper.watched
    order = Order(client_id="x", market=MARKET, token=TOKEN, side=BUY, price=px("0.41"),
                  size=sh(10), time_in_force=TimeInForce.GTC)
    order = apply(order, OrderEvent(kind=OrderEventKind.ACCEPTED, ts_ns=0, venue_order_id="v"))
    v.paper.restore([order])
    assert TOKEN in v.paper.watched  # waits for the token's next snapshot
    v.snapshot([("0.40", 100)], [("0.45", 100)])
    assert list(v.paper.resting) == ["x"]
    assert TOKEN in v.paper.watched
