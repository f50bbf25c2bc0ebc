"""A paper venue for the execution tests: one token's book, the client and its reports."""

from __future__ import annotations

from collections.abc import Sequence

from prediction_engine.core.book import OrderBook
from prediction_engine.core.commands import CancelOrder, ExecutionReport, SubmitOrder
from prediction_engine.core.events import BookDelta, BookSnapshot, Side, Trade
from prediction_engine.core.ids import ConditionId, TokenId, Venue
from prediction_engine.core.numbers import parse_micro
from prediction_engine.core.orders import Order, TimeInForce
from prediction_engine.execution.paper import PaperExecution
from prediction_engine.execution.queue import QueueModel

MARKET = ConditionId("0x" + "cd" * 32)
TOKEN = TokenId("777")
BUY, SELL = Side.BUY, Side.SELL
S = 1_000_000_000
"""One second in nanoseconds."""

Levels = list[tuple[int, int]]


def px(text: str) -> int:
    """A price in micro-units."""
    return parse_micro(text)


def sh(shares: float | str) -> int:
    """A size in micro-shares."""
    return parse_micro(str(shares))


class PaperVenue:
    """The engine's book of TOKEN (updated before the client sees each event, as the engine
    does) plus a paper client without fees reporting into a list. Sizes are in shares."""

    def __init__(self, queue: QueueModel | None = None, *, gated: bool = False) -> None:
        self.gated = gated
        """Hand the client only the events of tokens it watches, as the engine does."""
        self.book = OrderBook()
        self.reports: list[ExecutionReport] = []
        self.paper = PaperExecution(
            lambda t: self.book if t == TOKEN else None,
            lambda t: None,
            self.reports.append,
            queue=queue,
        )
        self._trades = 0

    # -- market events, in shares -----------------------------------------------------------

    def snapshot(
        self, bids: Sequence[tuple[str, float]], asks: Sequence[tuple[str, float]], ts: int = 0
    ) -> list[tuple[str, int]]:
        return self.snapshot_micro(
            [(px(p), sh(s)) for p, s in bids], [(px(p), sh(s)) for p, s in asks], ts
        )

    def level(self, side: Side, price: str, size: float, ts: int = 0) -> list[tuple[str, int]]:
        return self.level_micro(side, px(price), sh(size), ts)

    def trade(
        self, aggressor: Side | None, price: str, size: float, ts: int = 0
    ) -> list[tuple[str, int]]:
        return self.trade_micro(aggressor, px(price), sh(size), ts)

    # -- market events, in micro-units; each returns the fills it caused -------------------

    def snapshot_micro(self, bids: Levels, asks: Levels, ts: int) -> list[tuple[str, int]]:
        self.book.apply_snapshot(bids, asks)
        return self._see(
            BookSnapshot(
                venue=Venue.POLYMARKET, ts_event=ts, ts_recv=ts, market=MARKET, token=TOKEN,
                bids=tuple(bids), asks=tuple(asks),
            )
        )  # fmt: skip

    def level_micro(self, side: Side, price: int, size: int, ts: int) -> list[tuple[str, int]]:
        self.book.set_level(side is BUY, price, size)
        return self._see(
            BookDelta(
                venue=Venue.POLYMARKET, ts_event=ts, ts_recv=ts, market=MARKET, token=TOKEN,
                side=side, price=price, size=size,
            )
        )  # fmt: skip

    def trade_micro(
        self, aggressor: Side | None, price: int, size: int, ts: int
    ) -> list[tuple[str, int]]:
        self._trades += 1
        return self._see(
            Trade(
                venue=Venue.POLYMARKET, ts_event=ts, ts_recv=ts, market=MARKET, token=TOKEN,
                price=price, size=size, aggressor=aggressor, trade_id=f"t{self._trades}",
            )
        )  # fmt: skip

    def _see(self, event: BookSnapshot | BookDelta | Trade) -> list[tuple[str, int]]:
        start = len(self.reports)
        if not self.gated or event.token in self.paper.watched:
            self.paper.on_market_event(event)
        return fills(self.reports[start:])

    # -- commands ----------------------------------------------------------------------------

    def submit(
        self,
        side: Side,
        price: str,
        size: float,
        tif: TimeInForce = TimeInForce.GTC,
        *,
        cid: str = "c1",
        ts: int = 0,
    ) -> list[tuple[str, int]]:
        """Submit; return the fills it got as taker."""
        order = Order(
            client_id=cid, market=MARKET, token=TOKEN, side=side, price=px(price),
            size=sh(size), time_in_force=tif,
        )  # fmt: skip
        return self.send(SubmitOrder(order=order, ts_ns=ts))

    def send(self, command: SubmitOrder | CancelOrder) -> list[tuple[str, int]]:
        start = len(self.reports)
        self.paper.send(command)
        return fills(self.reports[start:])

    def ahead(self, cid: str = "c1") -> int | None:
        """The queue ahead of a resting order, in micro-shares."""
        return self.paper.queue_ahead(cid)


def fills(reports: Sequence[ExecutionReport]) -> list[tuple[str, int]]:
    """(client id, fill size) of each fill among ``reports``."""
    return [(r.client_id, r.fill.size) for r in reports if r.fill is not None]
