"""Paper execution: our orders matched against the engine's live books, Polymarket's rules.

The same client serves live paper trading and (wrapped with latency) the backtester, so both
give the same fills for the same events.

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

Liquidity consumption (:mod:`~prediction_engine.execution.liquidity`): displayed size we took
(taker fills and crossing fills, (a) below) is remembered per (token, level side, price) so
the same size never fills twice; available = displayed - consumed. A delta shrinking a level
is assumed to contain our consumption (someone took or pulled it) and releases that much; a
growing level keeps it; a level set to 0, a snapshot or a tick-size change forgets it.

Resting orders fill as makers at OUR price, fee ``fill_fee(..., taker=False)`` (0 on
Polymarket), when (a) after a book update of the token the opposite side crosses them (only
unconsumed displayed size at prices through our limit), (b) a public trade prints strictly
through our price (a SELL-aggressor trade below our bid, a BUY-aggressor trade above our ask),
for ``min(trade size, remaining)``, or (c) a public trade prints exactly at our price against
our side and is larger than the queue ahead of us, for ``min(trade size - ahead, remaining)``.
Our orders share one trade's size, best price first, then oldest first: each takes from what
the ones before it left. Our own orders never match each other. Maker fill reports are stamped
with the event's ``ts_recv``.

Queue position (``PaperExecution(..., queue=QueueModel(kind, power, pair_window_ns))``, see
:class:`~prediction_engine.execution.queue.QueueModel`; default kind ``"power"``, power 2):

* An order that starts resting at price p (GTC/GTD after its taker part) has ahead of it the
  displayed size at p on its side less what we consumed there (our order is not displayed);
  with kind ``"front"``, nothing.
* A trade at p against our side eats the queue ahead first (never below 0); the rest is (c).
* A decrease at p that trades do not explain is a cancel: the queue ahead shrinks by
  ``decrease * P``, ``P = f(ahead) / (f(ahead) + f(behind))``, ``behind = displayed - ahead``,
  ``f(x) = x ** power`` (``"power"``) or ``P = 0`` (``"risk_averse"``), and at least by what
  ``behind`` cannot hold. The expected value, in integers rounded down: no random numbers, so
  runs are byte-reproducible. An increase joins behind us. Ahead never exceeds displayed.
* A snapshot sets each of our levels to its size there, as a delta would; a tick-size change
  leaves queues alone until the snapshot after it. After a trade through p, the deletion of
  level p that follows empties the queue.
* ``"back"`` keeps no queue: a trade at our price never fills us (the rule before queues).

Trades and the book changes they cause: a trade's own decrease must not count as a cancel
too. Print and decrease may come in either order (what our simulator and the real captures
send is in :mod:`~prediction_engine.execution.queue`), so both are handled, per (token,
side, p) where one of our orders rests when the trade prints:

* trade first: its size is credited there; later decreases there are explained by the credit
  first, and only the rest is a cancel;
* decrease first: it is taken as a cancel at once and remembered as pending; a trade there
  matches it, gives back the queue the cancel took, then eats the queue as a trade.

Both orders give the same queue and the same fills. Credit and pending decreases lapse when
the other event comes more than ``pair_window_ns`` (venue time, default 100 ms) later. Too
short a window counts a trade twice (optimistic); too long a window takes a genuine cancel
and a trade after it for one trade (pessimistic: the trade meets the queue as it was before
the cancel, and its own decrease then counts as the cancel).

Not modelled: minimum order size, the venue's one-minute GTD expiry threshold, latency (the
backtester adds it around this client). A print is taken as volume at its price (a print that
sums several levels overstates the last one); prints are not mirrored to the complement token
(in the simulator a print on YES shrinks NO's mirrored level with no NO print: a cancel to a NO
order); trades are not linked to book changes across prices, so a seller who trades through
our bid and then rests across it can fill us twice.

GTD orders expire in :meth:`PaperExecution.on_time` once ``expire_ns <= now_ns``. A cancel of
a resting order reports CANCELLED; a cancel of an unknown or closed order reports nothing
(terminal orders accept no events) and is counted.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

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
from prediction_engine.execution.liquidity import (
    SIZE_STEP,
    Consumption,
    crossing_levels,
    lot,
    opposite,
)
from prediction_engine.execution.queue import QueueModel, Queues
from prediction_engine.execution.resting import RestingOrders

__all__ = ["SIZE_STEP", "PaperCounters", "PaperExecution", "QueueModel"]

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


class PaperExecution:
    """Simulated execution client (see the module docstring for the matching rules)."""

    def __init__(
        self,
        books: Callable[[TokenId], OrderBook | None],
        fees: Callable[[TokenId], FeeSchedule | None],
        report: ReportSink,
        *,
        id_prefix: str = "paper",
        queue: QueueModel | None = None,
    ) -> None:
        self._books = books
        self._fees = fees
        self._report = report
        self._prefix = id_prefix
        self._next = 0
        self.counters = PaperCounters()
        self._resting = RestingOrders()
        self._expiries: list[tuple[int, int, str]] = []
        self._consumed = Consumption()
        self._queues = Queues(queue or QueueModel())
        self._restoring: dict[TokenId, list[Order]] = {}
        self.watched: set[TokenId] = set()
        """Tokens whose market events can matter (a resting or restoring order, or consumed
        liquidity on them): the engine hands over only these tokens' events. Read-only."""

    @property
    def resting(self) -> Mapping[str, Order]:
        """Resting (open GTC/GTD) orders by client id: a read-only live view."""
        return self._resting.view

    def consumed(self, token: TokenId, level_side: Side, price: int) -> int:
        """Return the displayed size we consumed at a level (``level_side`` BUY is a bid)."""
        return self._consumed.get(token, level_side, price)

    def queue_ahead(self, client_id: str) -> int | None:
        """Return the displayed size modelled ahead of a resting order (None: not tracked)."""
        order = self._resting.view.get(client_id)
        if order is None:
            return None
        return self._queues.ahead(order.token, order.side, order.price, client_id)

    # -- commands --------------------------------------------------------------------------

    def send(self, command: Command) -> None:
        """Handle a submit or a cancel; reports go out synchronously.

        Raises ``ValueError`` when a submitted client id is already resting (an engine bug).
        """
        if isinstance(command, SubmitOrder):
            self._submit(command.order, command.ts_ns)
            self._rewatch(command.order.token)
            return
        order = self._resting.view.get(command.client_id) or self._unrest(command.client_id)
        if order is None:
            self.counters.cancel_unknown += 1
            return
        self.counters.cancelled += 1
        reason = command.reason or USER_CANCEL
        event = OrderEvent(kind=_E.CANCELLED, ts_ns=command.ts_ns, reason=reason)
        if order.client_id in self._resting.view:
            self._close(order, event)
        else:
            self._emit(order, event)
        self._rewatch(order.token)

    def _rewatch(self, token: TokenId) -> None:
        """Keep :attr:`watched` true for ``token`` after anything that may have changed it."""
        if (token in self._resting.reach or token in self._consumed.tokens
                or token in self._restoring):
            self.watched.add(token)
        else:
            self.watched.discard(token)

    def _unrest(self, client_id: str) -> Order | None:
        """Take a restored order still waiting for its book out of the wait (None: none)."""
        for token, waiting in self._restoring.items():
            for order in waiting:
                if order.client_id == client_id:
                    waiting.remove(order)
                    if not waiting:
                        del self._restoring[token]
                    return order
        return None

    def _submit(self, order: Order, ts: int) -> None:
        if order.client_id in self._resting.view:
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
            self._rest(order, book)

    def restore(self, orders: Iterable[Order]) -> None:
        """Rest again orders a previous process had resting (accepted, open), restored from
        the journal. Each joins its level's queue at the back on its token's first snapshot
        (the book is unknown until then) and may fill from then on."""
        for order in orders:
            if order.client_id in self._resting.view or not order.is_open:
                raise ValueError(f"cannot restore {order.client_id!r}: resting or closed")
            self._restoring.setdefault(order.token, []).append(order)
            self.watched.add(order.token)

    def _rest(self, order: Order, book: OrderBook) -> None:
        """Start holding ``order`` as resting: behind the displayed size at its price."""
        token, side, price, client_id = order.token, order.side, order.price, order.client_id
        self._resting.add(order)
        displayed = book.bid_size(price) if side is Side.BUY else book.ask_size(price)
        ahead = displayed - self._consumed.get(token, side, price)
        self._queues.join(token, side, price, client_id, displayed=displayed, ahead=ahead)
        if order.expire_ns is not None:
            self._next += 1
            heapq.heappush(self._expiries, (order.expire_ns, self._next, client_id))

    # -- matching --------------------------------------------------------------------------

    def _plan(self, order: Order, book: OrderBook) -> _Plan:
        """Return what ``order`` can take now: ``(level price, size, displayed)``, best first."""
        consumed = self._consumed.get
        token, level_side = order.token, opposite(order.side)
        wanted = order.remaining
        plan: _Plan = []
        for price, displayed in crossing_levels(book, order.side, order.price):
            take = lot(displayed - consumed(token, level_side, price), wanted)
            if take:
                plan.append((price, take, displayed))
                wanted -= take
                if not wanted:
                    break
        return plan

    def _execute(self, order: Order, plan: _Plan, ts: int, *, taker: bool) -> Order:
        """Fill ``order`` along ``plan`` (at level prices as taker, at its own as maker)."""
        level_side = opposite(order.side)
        for level_price, size, displayed in plan:
            self._consumed.consume(order.token, level_side, level_price, size, displayed)
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

    # -- market events and time ------------------------------------------------------------

    def on_market_event(self, event: Event) -> None:
        """Track consumed liquidity and queues; fill resting orders the event reaches.

        Events of tokens outside :attr:`watched` change nothing (the engine skips them).
        """
        if isinstance(event, BookDelta):
            token = event.token
            if token in self._consumed.tokens:
                self._consumed.release(event)
            if (reach := self._resting.reach.get(token)) is not None:
                self._queues.on_level(token, event.side, event.price, event.size, event.ts_event)
                # Only size shown at a price through one of ours can cross it: every other
                # crossing size was taken when it appeared (a shrink never frees any).
                highest_bid, lowest_ask = reach
                if event.size and (
                    event.price <= highest_bid
                    if event.side is Side.SELL
                    else event.price >= lowest_ask
                ):
                    self._cross_resting(token, event.ts_recv)
        elif isinstance(event, Trade):
            token = event.token
            if token in self._resting.reach and event.aggressor is not None:
                self._on_trade(event, opposite(event.aggressor))
        elif isinstance(event, BookSnapshot):
            token = event.token
            self._consumed.forget(token)
            if self._restoring and token in self._restoring:
                self._rest_restored(token)
            if token in self._resting.reach:
                self._queues.on_snapshot(event)
                self._cross_resting(token, event.ts_recv)
        elif isinstance(event, TickSizeChanged):
            token = event.token
            self._consumed.forget(token)
        else:
            return
        self._rewatch(token)

    def _rest_restored(self, token: TokenId) -> None:
        book = self._books(token)
        if book is None or not book.valid:
            return
        for order in self._restoring.pop(token):
            self._rest(order, book)

    def _cross_resting(self, token: TokenId, ts: int) -> None:
        book = self._books(token)
        if book is None or not book.valid:
            return
        for order in self._resting.crossed(token, book.best_bid, book.best_ask):
            self._update(self._execute(order, self._plan(order, book), ts, taker=False))

    def _on_trade(self, trade: Trade, side: Side) -> None:
        """Fill our ``side`` orders the trade prints through, or beats the queue ahead of."""
        price = trade.price
        ahead = self._queues.on_trade(trade.token, side, price, trade.size, trade.ts_event)
        left = trade.size
        for order in self._resting.by_priority(trade.token):
            if order.side is not side:
                continue
            if price < order.price if side is Side.BUY else price > order.price:
                size = lot(left, order.remaining)
            elif price == order.price and ahead is not None and order.client_id in ahead:
                size = lot(left - ahead[order.client_id], order.remaining)
            else:
                continue
            if size:
                left -= size
                self._update(self._fill(order, order.price, size, trade.ts_recv, taker=False))

    def on_time(self, now_ns: int) -> None:
        """Expire resting GTD orders whose ``expire_ns`` is at or before ``now_ns``."""
        while self._expiries and self._expiries[0][0] <= now_ns:
            _, _, client_id = heapq.heappop(self._expiries)
            order = self._resting.view.get(client_id)
            if order is not None and order.expire_ns is not None and order.expire_ns <= now_ns:
                self.counters.expired += 1
                self._close(order, OrderEvent(kind=_E.EXPIRED, ts_ns=now_ns))
                self._rewatch(order.token)

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
        self._resting.store(order)
        if not order.is_open:
            self._queues.leave(order.token, order.side, order.price, order.client_id)
