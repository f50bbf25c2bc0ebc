"""Paper execution: our orders matched against the engine's live books, Polymarket's rules.

Submission (reports stamped with the command's ``ts_ns``):

* No valid book for the token, a price off the book's tick grid, a GTD order already expired,
  or a post-only order that would cross (:func:`~prediction_engine.core.orders.is_marketable`
  on the displayed top of book): REJECTED with the venue's reason.
* FOK fills entirely against displayed opposite levels at or better than its limit, or is
  CANCELLED (killed) without a fill. FAK fills what is there and cancels the rest. Neither is
  acknowledged first (the lifecycle allows SUBMITTED -> fill/CANCELLED).
* GTC/GTD: ACCEPTED, then taker fills for whatever is marketable, then the remainder rests at
  its limit price.

Taker fills: one :class:`Fill` per price level, at the level's price (price improvement is
ours), fee ``fill_fee(size, level_price, schedule, taker=True)``. Fill sizes are whole
micro-shares; where a level's available size is not a multiple of the venue's 0.01-share step
(:data:`SIZE_STEP`) the fill is rounded down to one, and a fill is never 0.

Liquidity consumption: displayed size we took is remembered per (token, level side, price) so
the same size never fills twice; available = displayed - consumed. A delta shrinking a level
is assumed to contain our consumption (someone took or pulled it) and releases that much; a
growing level keeps it; a level set to 0, a snapshot or a tick-size change forgets it.

Resting orders fill as makers at OUR price, fee ``fill_fee(..., taker=False)`` (0 on
Polymarket), when (a) after a book update of the token the opposite side crosses them (only
unconsumed displayed size at prices through our limit), or (b) a public trade prints strictly
through our price (a SELL-aggressor trade below our bid, a BUY-aggressor trade above our ask),
for ``min(trade size, remaining)``. A trade exactly at our price does not fill us: we assume
the back of the queue (queue-position modelling is a later issue). Resting orders are served
best price first, then oldest first; our own orders never match each other. Maker fill reports
are stamped with the event's ``ts_recv``. Not modelled: queue position, minimum order size,
the venue's one-minute GTD expiry threshold, latency; trades are not linked to book changes,
so a seller who trades through our bid and then rests across it can fill us twice.

GTD orders expire in :meth:`PaperExecution.on_time` once ``expire_ns <= now_ns``. A cancel of
a resting order reports CANCELLED; a cancel of an unknown or closed order reports nothing
(terminal orders accept no events) and is counted.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import msgspec

from prediction_engine.core.book import OrderBook
from prediction_engine.core.commands import Command, ExecutionReport, SubmitOrder
from prediction_engine.core.events import (
    BookDelta,
    BookSnapshot,
    Event,
    Side,
    TickSizeChanged,
    Trade,
)
from prediction_engine.core.fees import fill_fee
from prediction_engine.core.ids import TokenId
from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import (
    Order,
    OrderEvent,
    OrderEventKind,
    TimeInForce,
    apply,
    fill_event,
    is_marketable,
)
from prediction_engine.core.portfolio import Fill
from prediction_engine.execution.base import ReportSink

__all__ = ["SIZE_STEP", "PaperCounters", "PaperExecution"]

SIZE_STEP = 10_000
"""The venue's size step in micro-shares (0.01 share)."""

NO_BOOK = "no book for token"
OFF_TICK = "order price breaks minimum tick size rule"
EXPIRED_AT_SUBMIT = "invalid expiration: already expired"
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
FOK_KILLED = "order couldn't be fully filled, FOK orders are fully filled or killed"
FAK_KILLED = "no orders found to match with FAK order, FAK orders are partially filled or killed"
FAK_REMAINDER = "FAK order remainder cancelled"
USER_CANCEL = "cancelled by user"

_E = OrderEventKind
_Plan = list[tuple[int, int, int]]  # (level price, fill size, displayed size)


@dataclass(slots=True)
class PaperCounters:
    """What the paper client did, for dashboards and tests."""

    submitted: int = 0
    accepted: int = 0
    rejected: int = 0
    fills: int = 0
    maker_fills: int = 0
    cancelled: int = 0
    killed: int = 0
    expired: int = 0
    cancel_unknown: int = 0


@dataclass(slots=True)
class _Consumed:
    consumed: int
    displayed: int


def _opposite(side: Side) -> Side:
    return Side.SELL if side is Side.BUY else Side.BUY


def _lot(available: int, wanted: int) -> int:
    """Return how much of ``wanted`` a level with ``available`` gives, in whole size steps."""
    if wanted <= available:
        return wanted
    available = max(available, 0)
    return available - available % SIZE_STEP


def _crossing_levels(book: OrderBook, side: Side, limit: int) -> Iterator[tuple[int, int]]:
    """Yield the opposite levels ``(price, size)`` an order of ``side`` at ``limit`` reaches."""
    tick = book.tick_size
    if side is Side.BUY:
        price = book.best_ask
        while price is not None and price <= limit and price < ONE:
            if size := book.ask_size(price):
                yield price, size
            price += tick
    else:
        price = book.best_bid
        while price is not None and price >= limit and price > 0:
            if size := book.bid_size(price):
                yield price, size
            price -= tick


class PaperExecution:
    """Simulated execution client (see the module docstring for the matching rules)."""

    def __init__(
        self,
        books: Callable[[TokenId], OrderBook | None],
        fees: Callable[[TokenId], FeeSchedule | None],
        report: ReportSink,
        *,
        id_prefix: str = "paper",
    ) -> None:
        self._books = books
        self._fees = fees
        self._report = report
        self._prefix = id_prefix
        self._next = 0
        self.counters = PaperCounters()
        self._orders: dict[str, Order] = {}
        self._by_token: dict[TokenId, dict[str, None]] = {}
        self._expiries: list[tuple[int, int, str]] = []
        self._consumed: dict[TokenId, dict[tuple[Side, int], _Consumed]] = {}

    @property
    def resting(self) -> Mapping[str, Order]:
        """Resting (open GTC/GTD) orders by client id: a read-only live view."""
        return MappingProxyType(self._orders)

    def consumed(self, token: TokenId, level_side: Side, price: int) -> int:
        """Return the displayed size we consumed at a level (``level_side`` BUY is a bid)."""
        record = self._consumed.get(token, {}).get((level_side, price))
        return record.consumed if record else 0

    # -- commands --------------------------------------------------------------------------

    def send(self, command: Command) -> None:
        """Handle a submit or a cancel; reports go out synchronously.

        Raises ``ValueError`` when a submitted client id is already resting (an engine bug).
        """
        if isinstance(command, SubmitOrder):
            self._submit(command.order, command.ts_ns)
            return
        order = self._orders.get(command.client_id)
        if order is None:
            self.counters.cancel_unknown += 1
            return
        self.counters.cancelled += 1
        reason = command.reason or USER_CANCEL
        self._close(order, OrderEvent(kind=_E.CANCELLED, ts_ns=command.ts_ns, reason=reason))

    def _submit(self, order: Order, ts: int) -> None:
        if order.client_id in self._orders:
            raise ValueError(f"client id {order.client_id!r} is already resting (engine bug)")
        self.counters.submitted += 1
        book = self._books(order.token)
        reason = NO_BOOK if book is None or not book.valid else self._refusal(order, book, ts)
        if reason or book is None:
            self.counters.rejected += 1
            self._emit(order, OrderEvent(kind=_E.REJECTED, ts_ns=ts, reason=reason))
        elif order.time_in_force in (TimeInForce.FOK, TimeInForce.FAK):
            self._take_or_kill(order, book, ts)
        else:
            self._place(order, book, ts)

    @staticmethod
    def _refusal(order: Order, book: OrderBook, ts: int) -> str:
        """Return why the venue would refuse ``order`` against ``book`` ("" if it would not)."""
        if order.price % book.tick_size:
            return OFF_TICK
        if order.expire_ns is not None and order.expire_ns <= ts:
            return EXPIRED_AT_SUBMIT
        if order.post_only and is_marketable(order.side, order.price, book.best_bid, book.best_ask):
            return POST_ONLY_CROSSES
        return ""

    def _take_or_kill(self, order: Order, book: OrderBook, ts: int) -> None:
        plan = self._plan(order, book)
        if order.time_in_force is TimeInForce.FOK and sum(s for _, s, _ in plan) < order.remaining:
            plan = []
        order = self._execute(order, plan, ts, taker=True)
        if order.remaining:
            self.counters.killed += 1
            fok = order.time_in_force is TimeInForce.FOK
            reason = FOK_KILLED if fok else FAK_REMAINDER if order.filled else FAK_KILLED
            self._emit(order, OrderEvent(kind=_E.CANCELLED, ts_ns=ts, reason=reason))

    def _place(self, order: Order, book: OrderBook, ts: int) -> None:
        self.counters.accepted += 1
        order = self._emit(order, OrderEvent(kind=_E.ACCEPTED, ts_ns=ts))
        order = self._execute(order, self._plan(order, book), ts, taker=True)
        if order.is_open:
            self._orders[order.client_id] = order
            self._by_token.setdefault(order.token, {})[order.client_id] = None
            if order.expire_ns is not None:
                self._next += 1
                heapq.heappush(self._expiries, (order.expire_ns, self._next, order.client_id))

    # -- matching --------------------------------------------------------------------------

    def _plan(self, order: Order, book: OrderBook) -> _Plan:
        """Return what ``order`` can take now: ``(level price, size, displayed)``, best first."""
        consumed = self._consumed.get(order.token, {})
        level_side = _opposite(order.side)
        wanted = order.remaining
        plan: _Plan = []
        for price, displayed in _crossing_levels(book, order.side, order.price):
            record = consumed.get((level_side, price))
            take = _lot(displayed - (record.consumed if record else 0), wanted)
            if take:
                plan.append((price, take, displayed))
                wanted -= take
                if not wanted:
                    break
        return plan

    def _execute(self, order: Order, plan: _Plan, ts: int, *, taker: bool) -> Order:
        """Fill ``order`` along ``plan`` (at level prices as taker, at its own as maker)."""
        level_side = _opposite(order.side)
        for level_price, size, displayed in plan:
            self._consume(order.token, level_side, level_price, size, displayed)
            order = self._fill(order, level_price if taker else order.price, size, ts, taker)
        return order

    def _fill(self, order: Order, price: int, size: int, ts: int, taker: bool) -> Order:
        self._next += 1
        fill = Fill(
            market=order.market,
            token=order.token,
            side=order.side,
            price=price,
            size=size,
            fee=fill_fee(size, price, self._fees(order.token), taker=taker),
            ts_ns=ts,
            client_id=order.client_id,
            trade_id=f"{self._prefix}-{self._next}",
        )
        self.counters.fills += 1
        if not taker:
            self.counters.maker_fills += 1
        return self._emit(order, fill_event(order, size, ts), fill, taker=taker)

    def _consume(self, token: TokenId, side: Side, price: int, size: int, displayed: int) -> None:
        levels = self._consumed.setdefault(token, {})
        record = levels.setdefault((side, price), _Consumed(0, displayed))
        record.consumed += size
        record.displayed = displayed

    # -- market events and time ------------------------------------------------------------

    def on_market_event(self, event: Event) -> None:
        """Track consumed liquidity and fill resting orders the event crosses or trades through."""
        if isinstance(event, BookDelta):
            self._release(event)
        elif isinstance(event, BookSnapshot | TickSizeChanged):
            self._consumed.pop(event.token, None)
        elif isinstance(event, Trade):
            if event.token in self._by_token:
                self._trade_through(event)
            return
        else:
            return
        if event.token in self._by_token:
            self._cross_resting(event.token, event.ts_recv)

    def _release(self, delta: BookDelta) -> None:
        """Update the consumption record of the level ``delta`` sets, if we have one."""
        levels = self._consumed.get(delta.token)
        record = levels.get((delta.side, delta.price)) if levels else None
        if levels is None or record is None:
            return
        if delta.size < record.displayed:
            record.consumed = max(0, record.consumed - (record.displayed - delta.size))
        record.displayed = delta.size
        if not delta.size or not record.consumed:
            del levels[delta.side, delta.price]
            if not levels:
                del self._consumed[delta.token]

    def _queue(self, token: TokenId) -> list[Order]:
        """Resting orders of ``token``, best price first, then oldest first."""
        orders = [self._orders[cid] for cid in self._by_token[token]]
        return sorted(orders, key=lambda o: -o.price if o.side is Side.BUY else o.price)

    def _cross_resting(self, token: TokenId, ts: int) -> None:
        book = self._books(token)
        if book is None or not book.valid:
            return
        for order in self._queue(token):
            if is_marketable(order.side, order.price, book.best_bid, book.best_ask):
                plan = self._plan(order, book)
                self._update(self._execute(order, plan, ts, taker=False))

    def _trade_through(self, trade: Trade) -> None:
        if trade.aggressor is None:
            return
        side = _opposite(trade.aggressor)
        left = trade.size
        for order in self._queue(trade.token):
            through = trade.price < order.price if side is Side.BUY else trade.price > order.price
            if order.side is side and through and (size := _lot(left, order.remaining)):
                left -= size
                self._update(self._fill(order, order.price, size, trade.ts_recv, taker=False))

    def on_time(self, now_ns: int) -> None:
        """Expire resting GTD orders whose ``expire_ns`` is at or before ``now_ns``."""
        while self._expiries and self._expiries[0][0] <= now_ns:
            _, _, client_id = heapq.heappop(self._expiries)
            order = self._orders.get(client_id)
            if order is not None and order.expire_ns is not None and order.expire_ns <= now_ns:
                self.counters.expired += 1
                self._close(order, OrderEvent(kind=_E.EXPIRED, ts_ns=now_ns))

    # -- bookkeeping -----------------------------------------------------------------------

    def _emit(
        self, order: Order, event: OrderEvent, fill: Fill | None = None, *, taker: bool = True
    ) -> Order:
        """Report ``event`` and return the order after it (the first accepted event names it)."""
        if order.venue_order_id is None and event.kind is not _E.REJECTED:
            self._next += 1
            event = msgspec.structs.replace(event, venue_order_id=f"{self._prefix}-o{self._next}")
        after = apply(order, event)
        self._report(
            ExecutionReport(client_id=order.client_id, event=event, fill=fill, taker=taker)
        )
        return after

    def _close(self, order: Order, event: OrderEvent) -> None:
        self._update(self._emit(order, event))

    def _update(self, order: Order) -> None:
        """Store a resting order's new state, or forget it once it is closed."""
        if order.is_open:
            self._orders[order.client_id] = order
            return
        del self._orders[order.client_id]
        ids = self._by_token[order.token]
        del ids[order.client_id]
        if not ids:
            del self._by_token[order.token]
