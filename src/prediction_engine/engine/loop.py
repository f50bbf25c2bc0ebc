"""The engine: one owner of all state, fed by one inbox, deciding through pure strategies.

Each batch of messages goes through three steps. Live, a batch is one venue frame's events
(what was waiting in the inbox, split by :func:`~.messages.frames`); a backtest hands the same
frames from the event store:

1. **Reduce** every message into :class:`~.state.EngineState`: books, markets, reference
   prices and strikes, order reports and fills, the clock, staleness.
2. **Evaluate** the strategies that subscribed to what changed: each touched token's book once
   (conflated), every trade, reference price and lifecycle event in order.
3. **Decide**: per market the best signal (edge x confidence) is sized with fractional Kelly;
   orders and baskets go through risk (all legs of a basket or none); approved orders are
   handed to the execution client as commands.

Execution reports come back through :meth:`Engine.post` and are reduced right after the batch,
before the next one. :meth:`Engine.handle` is synchronous, so a backtest drives the same engine
without an event loop; :meth:`Engine.run` is the live loop over an :class:`~.messages.Inbox`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import msgspec
from msgspec.structs import astuple as _astuple

from prediction_engine.core.commands import CancelOrder, ExecutionReport, SubmitOrder
from prediction_engine.core.events import (
    BookDelta,
    BookSnapshot,
    Event,
    MarketListed,
    MarketResolved,
    ReferencePrice,
    Side,
    TickSizeChanged,
    TopOfBook,
    Trade,
)
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import (
    IllegalTransition,
    Order,
    OrderIntent,
    OrderStatus,
    apply,
)
from prediction_engine.core.portfolio import Fill, Portfolio, Position
from prediction_engine.engine.clock import Clock, ManualClock
from prediction_engine.engine.config import EngineConfig
from prediction_engine.engine.decide import size_signal
from prediction_engine.engine.journaling import CashMovement, JournalKind, JournalSink
from prediction_engine.engine.messages import (
    AddMarkets,
    CancelMarketOrders,
    EngageKillSwitch,
    Inbox,
    Message,
    Stop,
    TimerTick,
    frames,
)
from prediction_engine.engine.routing import Routes
from prediction_engine.engine.snapshot import EngineSnapshot, PortfolioState
from prediction_engine.engine.state import EngineState, EngineView, TokenSlot, market_from_listing
from prediction_engine.engine.telemetry import (
    FillRecord,
    LatencyRecord,
    OrderRecord,
    SignalRecord,
    TelemetrySink,
)
from prediction_engine.execution.base import ExecutionClient
from prediction_engine.risk import (
    KillSwitch,
    Rejected,
    RiskState,
    check,
    halt_reason,
    summarize,
    with_order,
)
from prediction_engine.strategy.base import (
    Basket,
    CancelOrders,
    Intent,
    PersistentStrategy,
    Strategy,
    Subscriptions,
)
from prediction_engine.strategy.sizing import Signal

__all__ = ["Engine", "EngineConfig", "EngineCounters", "SubscriptionListener"]

log = logging.getLogger(__name__)

_DAY_NS = 86_400 * 1_000_000_000
_BOOK = (BookDelta, BookSnapshot, TickSizeChanged)
# Final: compiled, these are C statics, not a dict lookup per message in handle's dispatch.
_DELTA: Final = BookDelta
_SNAPSHOT: Final = BookSnapshot
_TOP: Final = TopOfBook
_TRADE: Final = Trade
_TICK: Final = TimerTick
_K: Final = JournalKind
_BUY: Final = Side.BUY
_ASTUPLE: Final = _astuple  # compiled, a Final global is a C static, not a dict lookup per call
# Engine._delta, _snapshot, _top and _trade unpack these structs' fields in this order.
for _kind, _fields in (
    (BookDelta, ("venue", "ts_event", "ts_recv", "market", "token", "side", "price", "size",
                 "venue_best_bid", "venue_best_ask", "checkpoint", "hash")),
    (TopOfBook, ("venue", "ts_event", "ts_recv", "market", "token", "best_bid", "best_ask")),
    (Trade, ("venue", "ts_event", "ts_recv", "market", "token", "price", "size", "aggressor",
             "trade_id", "fee_rate_bps", "transaction_hash")),
    (BookSnapshot, ("venue", "ts_event", "ts_recv", "market", "token", "bids", "asks",
                    "tick_size", "min_order_size", "last_trade_price", "neg_risk", "hash")),
):
    if _kind.__struct_fields__ != _fields:
        raise ImportError(f"{_kind.__name__}'s fields changed: {_kind.__struct_fields__}")

SubscriptionListener = Callable[[Subscriptions, Subscriptions], None]
"""``listener(added, removed)``: the aggregate subscriptions changed (the runner (un)subscribes)."""


@dataclass
class EngineCounters:
    """What the engine did, for the CLI, metrics and tests."""

    batches: int = 0
    messages: int = 0
    evaluations: int = 0
    signals: int = 0
    orders: int = 0
    rejected: int = 0
    cancels: int = 0
    fills: int = 0
    reports: int = 0
    stale_skips: int = 0
    unknown_reports: int = 0
    illegal_reports: int = 0
    settlements: int = 0


class Engine:
    """The single owner of trading state."""

    def __init__(
        self,
        strategies: Sequence[Strategy],
        clock: Clock,
        config: EngineConfig | None = None,
        *,
        telemetry: TelemetrySink | None = None,
        on_subscriptions: SubscriptionListener | None = None,
        journal: JournalSink | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self.journal = journal
        self.state = EngineState(self.config.starting_cash, self.config.stale)
        self.view = EngineView(self.state)
        self.strategies = list(strategies)
        self.routes = Routes()
        self.counters = EngineCounters()
        self.telemetry = telemetry
        self.execution: ExecutionClient | None = None
        self._watched: set[TokenId] = set()  # the execution client's watched tokens
        self._clock = clock
        self._now_ns: Callable[[], int] = clock.now_ns  # bound once: a Protocol call is generic
        # A replay's clock is read natively, not through a bound method.
        self._manual = clock if isinstance(clock, ManualClock) else None
        self._on_subscriptions = on_subscriptions
        self._reports: deque[ExecutionReport] = deque()
        self._touched: list[TokenSlot] = []  # tokens with book events this batch, in order
        self._batch = 0
        self._routes_version = 0  # moves on whenever a token's strategies may have changed
        self._routed: list[tuple[Event, list[Strategy]]] = []
        self._intents: list[tuple[Strategy, Intent]] = []
        self._next_id = 0
        self._day: int | None = None  # the UTC day the daily PnL counts from
        self._stopped = False
        self._first_recv = 0
        self._seen_venue: str | None = None  # the venue and receive time _seen last stored
        self._seen_recv: object = None
        self._first_command_ns = 0
        self._first_order: Order | None = None

    # -- wiring ----------------------------------------------------------------------------

    def attach(self, execution: ExecutionClient) -> None:
        """Send commands to ``execution`` (which reports back through :meth:`post`)."""
        self.execution = execution
        self._watched = execution.watched

    def post(self, report: ExecutionReport) -> None:
        """Accept an execution report (never blocks; reduced after the current batch)."""
        self._reports.append(report)

    @property
    def subscriptions(self) -> Subscriptions:
        """Everything the strategies asked for: what the venue connections must carry."""
        return self.routes.subscriptions()

    def add_markets(self, markets: Iterable[Market]) -> Subscriptions:
        """Make ``markets`` known, offer them to every strategy; return what was added."""
        fresh = [m for m in markets if self.state.add_market(m)]
        if not fresh:
            return Subscriptions()
        self._routes_version += 1
        added = Subscriptions()
        for strategy in self.strategies:
            wanted = strategy.subscriptions(fresh)
            added |= self.routes.add(strategy, wanted)
        if self.telemetry is not None:
            for market in fresh:
                if market.condition_id in self.routes.markets:
                    self.telemetry.market_info(market)
        if added and self._on_subscriptions is not None:
            self._on_subscriptions(added, Subscriptions())
        return added

    # -- the loop --------------------------------------------------------------------------

    async def run(self, inbox: Inbox, timer_interval_s: float = 0.25) -> None:
        """Consume ``inbox`` until a :class:`Stop` message (or cancellation), ticking a timer."""
        async with asyncio.TaskGroup() as group:
            timer = group.create_task(self._tick(inbox, timer_interval_s), name="engine-timer")
            try:
                while not self._stopped:
                    for frame in frames(await inbox.get_batch()):
                        self.handle(frame)
            finally:
                timer.cancel()

    async def _tick(self, inbox: Inbox, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await inbox.put(TimerTick(self._clock.now_ns()))

    def handle(self, messages: Sequence[Message]) -> None:
        """Reduce, evaluate and decide one batch; then reduce the execution reports it caused."""
        counters = self.counters
        counters.batches += 1
        counters.messages += len(messages)
        self._batch += 1
        self._first_recv = self._first_command_ns = 0
        self._first_order = None
        self._seen_venue = None
        start_ns = self._now()
        # A tuple (every frame the backtest cuts) is iterated natively, compiled.
        batch = messages if isinstance(messages, tuple) else tuple(messages)
        for message in batch:
            # Market data is most of any feed: exact types go straight to their reducer (the
            # backtest's hot path); everything else, subclasses included, through _reduce.
            if type(message) is _DELTA:
                self._delta(message)
            elif type(message) is _TOP:
                self._top(message)
            elif type(message) is _SNAPSHOT:
                self._snapshot(message)
            elif type(message) is _TRADE:
                self._trade(message)
            else:
                self._reduce(message)
        if self._reports:
            self._drain_reports()
        self.state.instruments.forget()
        if self._touched or self._routed:
            self._evaluate()
            if self._intents:
                intents, self._intents = self._intents, []
                evaluated_ns = self._now()
                self._decide(intents)
                self._latency(start_ns, evaluated_ns)
            if self._reports:
                self._drain_reports()

    def _now(self) -> int:
        manual = self._manual
        return manual.now_ns() if manual is not None else self._now_ns()

    # -- reduce ----------------------------------------------------------------------------

    def _reduce(self, message: Message) -> None:
        # Timer ticks first, by exact type: an isinstance on a msgspec type costs hundreds of
        # instructions, and every tick went through the whole chain below.
        if type(message) is _TICK:
            self._timer(message.ts_ns)
            return
        if isinstance(message, _BOOK):
            self._book(message)
        elif isinstance(message, ExecutionReport):
            self._reports.append(message)
        elif isinstance(message, ReferencePrice):
            self._reference(message)
        elif isinstance(message, Trade):
            self._trade(message)
        elif isinstance(message, TopOfBook):
            self._top(message)
        elif isinstance(message, MarketListed):
            self.add_markets([market_from_listing(message)])
            self._route(message, self.routes.by_market.get(message.market))
        elif isinstance(message, MarketResolved):
            self._resolved(message)
        elif isinstance(message, TimerTick):
            self._timer(message.ts_ns)
        elif isinstance(message, AddMarkets):
            self.add_markets(message.markets)
        elif isinstance(message, CancelMarketOrders):
            market = message.market
            self.cancel_where(lambda o: o.market == market, message.reason or "cancel market")
        elif isinstance(message, EngageKillSwitch):
            self.kill(message.reason)
        elif isinstance(message, Stop):
            if message.cancel_orders:
                self.cancel_where(lambda o: True, "shutdown")
            self._stopped = True

    def _book(self, event: BookDelta | BookSnapshot | TickSizeChanged) -> None:
        """A book event: the clock, the feed's liveness, the book, then the venue's view."""
        state = self.state
        slot = state.slot(event.token)
        self._seen(event.venue, slot, event.ts_recv)
        state.books.apply(event)
        if slot.book is None:  # a snapshot or tick change made it
            slot.book = state.books.books.get(slot.token)
        self._book_changed(slot, event)

    def _snapshot(self, snapshot: BookSnapshot) -> None:
        """:meth:`_book` for an exact :class:`BookSnapshot`, its fields read in one call."""
        venue, ts_event, recv, _, token, bids, asks, tick_size, *_ = _ASTUPLE(snapshot)
        state = self.state
        slot = state.slot(token)
        self._seen(venue, slot, recv)
        state.books.snapshot(token, ts_event, bids, asks, tick_size)
        if slot.book is None:  # the first snapshot made it
            slot.book = state.books.books.get(token)
        self._book_changed(slot, snapshot)

    def _delta(self, delta: BookDelta) -> None:
        """:meth:`_book` for an exact :class:`BookDelta`, its fields read in one call."""
        fields = _ASTUPLE(delta)
        venue, ts_event, recv, _, token, side, price, size, bid, ask, checkpoint, _ = fields
        state = self.state
        slot = state.slot(token)
        self._seen(venue, slot, recv)
        state.books.delta(
            slot.book, token, ts_event, side is _BUY, price, size, bid, ask, checkpoint
        )
        self._book_changed(slot, delta)

    def _book_changed(
        self, slot: TokenSlot, event: BookDelta | BookSnapshot | TickSizeChanged
    ) -> None:
        """The strategies will see the book; the execution client sees the event if it watches."""
        if slot.batch != self._batch:
            slot.batch = self._batch
            self._touched.append(slot)
        slot.event = event
        watched = self._watched
        if watched and slot.token in watched and self.execution is not None:
            self.execution.on_market_event(event)

    def _top(self, top: TopOfBook) -> None:
        """The venue's top of book: the clock and the feed's liveness, nothing else (it tells
        neither the book nor the strategies anything the book does not)."""
        venue, _, recv, _, token, _, _ = _ASTUPLE(top)
        self._seen(venue, self.state.slot(token), recv)

    def _trade(self, trade: Trade) -> None:
        """A trade: the clock and the feed's liveness, then the execution client (resting
        orders) and the strategies."""
        venue, _, recv, _, token, *_ = _ASTUPLE(trade)
        slot = self.state.slot(token)
        self._seen(venue, slot, recv)
        watched = self._watched
        if watched and token in watched and self.execution is not None:
            self.execution.on_market_event(trade)
        self._route(trade, self._strategies(slot))

    def _strategies(self, slot: TokenSlot) -> list[Strategy] | None:
        """The strategies routed the token's events (cached in its slot)."""
        if slot.routes_version != self._routes_version:
            slot.strategies = self.routes.by_token.get(slot.token)
            slot.routes_version = self._routes_version
        return slot.strategies

    def _seen(self, venue: str, slot: TokenSlot, recv: Any) -> None:
        """``recv``: the event's ``ts_recv`` object, stored as is (compiled, an ``int`` would be
        unboxed and then boxed into a new object for each dict)."""
        slot.seen_ns = recv
        if recv is self._seen_recv and venue is self._seen_venue:
            return  # an earlier event of this batch's frame (same time object) stored the rest
        state = self.state
        self._seen_venue, self._seen_recv = venue, recv
        now: int = recv
        state.now_ns = max(state.now_ns, now)
        state.feed_seen(venue, recv)
        if not self._first_recv:
            self._first_recv = now

    def _reference(self, price: ReferencePrice) -> None:
        state = self.state
        state.now_ns = max(state.now_ns, price.ts_recv)
        symbol = price.symbol.lower()
        state.references[symbol] = price
        state.symbol_feed[symbol] = price.venue.value
        state.feed_seen(price.venue, price.ts_recv)
        strike_venue = self.config.strike_venue
        if strike_venue is None or price.venue is strike_venue:
            previous = state.strike_references.get(symbol)
            state.set_strike(price, previous)
            state.strike_references[symbol] = price
        if not self._first_recv:
            self._first_recv = price.ts_recv
        self._route(price, self.routes.by_symbol.get(symbol))

    def _resolved(self, event: MarketResolved) -> None:
        state = self.state
        state.now_ns = max(state.now_ns, event.ts_recv)
        self.cancel_where(lambda o: o.market == event.market, "market resolved")
        if any(state.portfolio.shares(t) for t in event.tokens):
            self.counters.settlements += 1
            journal = self.journal
            if journal is not None:
                journal.append(_K.RESOLUTION, state.now_ns, event)
            received = state.portfolio.resolve(event)
            if journal is not None:
                self._journal_settlement(journal, event, received)
        state.close_market(event.market)
        self._route(event, self.routes.by_market.get(event.market))
        removed = self.routes.remove_market(event.market, event.tokens)
        self._routes_version += 1
        if removed and self._on_subscriptions is not None:
            self._on_subscriptions(Subscriptions(), removed)

    def _timer(self, now_ns: int) -> None:
        state = self.state
        state.now_ns = max(state.now_ns, now_ns)
        if self.execution is not None:
            self.execution.on_time(state.now_ns)
        if self.config.cancel_on_stale:
            self.cancel_where(lambda o: state.book_stale(o.token), "stale book")
        self._update_daily_pnl()
        reason = halt_reason(state.kill_switch, state.daily_pnl, self.config.limits)
        if reason is not None and not state.kill_switch.engaged:
            self.kill(f"{reason.value}: daily PnL {state.daily_pnl / ONE:.2f} USD")
        journal = self.journal
        if journal is not None and journal.snapshot_due(state.now_ns):
            journal.append(_K.SNAPSHOT, state.now_ns, self.export_state())

    def _update_daily_pnl(self) -> None:
        state = self.state
        equity = state.equity()
        day = state.now_ns // _DAY_NS
        if day != self._day:
            self._day = day
            state.day_start_equity = equity
        state.daily_pnl = equity - state.day_start_equity

    def _drain_reports(self) -> None:
        while self._reports:
            self._report(self._reports.popleft())

    def _report(self, report: ExecutionReport) -> None:
        state = self.state
        self.counters.reports += 1
        strategy = state.order_strategy.get(report.client_id, "")
        journal = self.journal
        if journal is not None:  # write-ahead: journaled before the engine acts on it
            journal.append(_K.REPORT, report.event.ts_ns, report, strategy)
        order = self._apply_report(report)
        if order is None:
            return
        if report.fill is not None:
            self.counters.fills += 1
            position = state.portfolio.apply_fill(report.fill)
            if journal is not None:
                self._journal_fill(journal, report.fill, position, strategy)
            self._record_fill(strategy, report)
        self._record_order(strategy, order)

    def _apply_report(self, report: ExecutionReport) -> Order | None:
        """Move the order through its lifecycle; ``None`` if the report cannot apply."""
        state = self.state
        order = state.orders.get(report.client_id)
        if order is None:
            self.counters.unknown_reports += 1
            log.warning("report for unknown order %s ignored", report.client_id)
            return None
        try:
            order = apply(order, report.event)
        except IllegalTransition as e:
            self.counters.illegal_reports += 1
            log.error("execution report breaks the order lifecycle: %s", e)
            return None
        state.orders[order.client_id] = order
        if order.is_open:
            state.open_orders[order.client_id] = order
        else:
            state.open_orders.pop(order.client_id, None)
        return order

    # -- evaluate --------------------------------------------------------------------------

    def _route(self, event: Event, strategies: list[Strategy] | None) -> None:
        if strategies:
            self._routed.append((event, strategies))

    def _evaluate(self) -> None:
        """Offer the batch's events to their strategies; their intents go to ``_intents``."""
        view = self.view
        intents = self._intents  # empty: one list kept, not a new one per batch
        evaluations = 0
        touched = self._touched
        if touched:
            for slot in touched:
                event = slot.event
                slot.event = None
                subscribed = self._strategies(slot)
                if subscribed:
                    evaluations += _offer(event, subscribed, view, intents)
            touched.clear()
        routed = self._routed
        if routed:
            for event, strategies in routed:
                evaluations += _offer(event, strategies, view, intents)
            routed.clear()
        self.counters.evaluations += evaluations

    # -- decide ----------------------------------------------------------------------------

    def _decide(self, intents: list[tuple[Strategy, Intent]]) -> None:
        best: dict[ConditionId, tuple[Strategy, Signal]] = {}
        for strategy, intent in intents:
            if isinstance(intent, Signal):
                self.counters.signals += 1
                current = best.get(intent.market)
                if intent.score > 0 and (current is None or intent.score > current[1].score):
                    best[intent.market] = (strategy, intent)
            elif isinstance(intent, OrderIntent):
                self._submit(strategy, (intent,))
            elif isinstance(intent, Basket):
                self._submit(strategy, intent.legs)
            elif isinstance(intent, CancelOrders):
                self._cancel_own(strategy, intent)
        for strategy, signal in best.values():
            self._take(strategy, signal)

    def _take(self, strategy: Strategy, signal: Signal) -> None:
        state = self.state
        if state.book_stale(signal.token):
            self.counters.stale_skips += 1
            self._record_signal(strategy, signal, "stale")
            return
        # One summary of open orders and positions serves the sizing and the risk check.
        risk = state.risk_state()
        risk = replace(risk, summary=summarize(risk))
        limits = self.config.limits
        sized = size_signal(signal, state, risk, limits, self.config.kelly_multiplier)
        if isinstance(sized, str):
            self._record_signal(strategy, signal, f"no_size: {sized}")
            return
        self._record_signal(strategy, signal, "sized")
        self._submit(strategy, (sized,), risk)

    def _submit(
        self, strategy: Strategy, legs: Sequence[OrderIntent], risk: RiskState | None = None
    ) -> None:
        """Send every leg, or none if any is stale or rejected by risk."""
        state, limits, now = self.state, self.config.limits, self.state.now_ns
        if any(state.book_stale(leg.token) for leg in legs):
            self.counters.stale_skips += 1
            return
        if risk is None:
            risk = state.risk_state()
            if len(legs) > 1:  # sum open orders and positions once; each leg then adds O(1)
                risk = replace(risk, summary=summarize(risk))
        orders: list[Order] = []
        for leg in legs:
            decision = check(leg, risk, limits, now)
            if isinstance(decision, Rejected):
                self.counters.rejected += 1
                self._record_rejection(strategy, decision)
                return
            order = Order.from_intent(leg, self._client_id(strategy), now)
            orders.append(order)
            if len(orders) < len(legs):
                risk = with_order(risk, order)
        for order in orders:
            self._send(strategy, order)

    def _client_id(self, strategy: Strategy) -> str:
        self._next_id += 1
        return f"{strategy.id}-{self._next_id}"

    def _send(self, strategy: Strategy, order: Order) -> None:
        state = self.state
        if self.execution is None:
            raise RuntimeError("engine has no execution client: call attach() first")
        command = SubmitOrder(order=order, strategy=strategy.id, ts_ns=state.now_ns)
        if self.journal is not None:  # write-ahead: journaled before it is sent
            self.journal.append(_K.SUBMIT, command.ts_ns, command, strategy.id)
        self._track(command)
        self.counters.orders += 1
        self._record_order(strategy.id, order)
        if not self._first_command_ns:
            self._first_command_ns = self._now()
            self._first_order = order
        self.execution.send(command)

    def _track(self, command: SubmitOrder) -> None:
        """Hold a submitted order as ours: open, owned by its strategy, its market cooling."""
        state, order = self.state, command.order
        state.orders[order.client_id] = order
        state.open_orders[order.client_id] = order
        state.order_strategy[order.client_id] = command.strategy
        state.last_order_ns[order.market] = command.ts_ns

    def _cancel_own(self, strategy: Strategy, intent: CancelOrders) -> None:
        owner = self.state.order_strategy
        self.cancel_where(
            lambda o: owner.get(o.client_id) == strategy.id
            and (intent.market is None or o.market == intent.market),
            intent.reason or f"{strategy.id} cancelled",
        )

    def cancel_where(self, predicate: Callable[[Order], bool], reason: str) -> int:
        """Send a cancel for every open order matching ``predicate``; return how many."""
        doomed = [o for o in self.state.open_orders.values() if predicate(o)]
        journal = self.journal
        for order in doomed:
            self.counters.cancels += 1
            command = CancelOrder(client_id=order.client_id, reason=reason, ts_ns=self.state.now_ns)
            if journal is not None:
                owner = self.state.order_strategy.get(order.client_id, "")
                journal.append(_K.CANCEL, command.ts_ns, command, owner)
            if self.execution is not None:
                self.execution.send(command)
        return len(doomed)

    def kill(self, reason: str) -> None:
        """Engage the kill switch: cancel every open order, refuse every new one."""
        state = self.state
        state.kill_switch = state.kill_switch.engage(reason, state.now_ns)
        if self.journal is not None:
            self.journal.append(_K.KILL_SWITCH, state.now_ns, state.kill_switch)
        log.error("kill switch engaged: %s", reason)
        self.cancel_where(lambda o: True, f"kill switch: {reason}")

    # -- journal, snapshots and restore -----------------------------------------------------

    def _journal_fill(
        self, journal: JournalSink, fill: Fill, position: Position, strategy: str
    ) -> None:
        state = self.state
        direction = 1 if fill.side is Side.BUY else -1
        journal.append(_K.POSITION, fill.ts_ns, position, strategy)
        movement = CashMovement(
            ts_ns=fill.ts_ns,
            amount=-(direction * fill.notional + fill.fee),
            balance=state.portfolio.cash,
            reason="fill",
            market=fill.market,
            client_id=fill.client_id,
            trade_id=fill.trade_id,
        )
        journal.append(_K.CASH, fill.ts_ns, movement, strategy)

    def _journal_settlement(
        self, journal: JournalSink, event: MarketResolved, received: int
    ) -> None:
        portfolio, now = self.state.portfolio, self.state.now_ns
        for token in event.tokens:
            position = portfolio.position(token)
            if position is not None:
                journal.append(_K.POSITION, now, position)
        movement = CashMovement(
            ts_ns=now, amount=received, balance=portfolio.cash, reason="settlement",
            market=event.market,
        )
        journal.append(_K.CASH, now, movement)

    def export_state(self) -> EngineSnapshot:
        """The state trading continues from after a restart (see :mod:`.snapshot`)."""
        state = self.state
        portfolio = state.portfolio
        persisted: dict[str, msgspec.Raw] = {}
        for strategy in self.strategies:
            if isinstance(strategy, PersistentStrategy):
                persisted[strategy.id] = msgspec.Raw(msgspec.json.encode(strategy.persist()))
        open_ids = state.open_orders.keys()
        return EngineSnapshot(
            ts_ns=state.now_ns,
            portfolio=PortfolioState(
                starting_cash=portfolio.starting_cash, cash=portfolio.cash,
                realized=portfolio.realized, fees=portfolio.fees,
                positions=tuple(portfolio.positions.values()),
            ),
            open_orders=tuple(state.open_orders.values()),
            order_strategy={c: s for c, s in state.order_strategy.items() if c in open_ids},
            next_order=self._next_id,
            kill_switch=state.kill_switch,
            day=self._day,
            day_start_equity=state.day_start_equity,
            daily_pnl=state.daily_pnl,
            last_order_ns={str(m): t for m, t in state.last_order_ns.items()},
            marks={str(t): p for t, p in state.marks().items()},
            strategies=persisted,
        )

    def import_state(self, snapshot: EngineSnapshot) -> None:
        """Continue from ``snapshot`` (before any event; replay later records with
        :meth:`replay`)."""
        state = self.state
        p = snapshot.portfolio
        state.portfolio = Portfolio.restore(p.starting_cash, p.cash, p.realized, p.fees,
                                            p.positions)
        for order in snapshot.open_orders:
            state.orders[order.client_id] = order
            state.open_orders[order.client_id] = order
        state.order_strategy.update(snapshot.order_strategy)
        self._next_id = max(self._next_id, snapshot.next_order)
        state.kill_switch = snapshot.kill_switch
        self._day = snapshot.day
        state.day_start_equity = snapshot.day_start_equity
        state.daily_pnl = snapshot.daily_pnl
        state.last_order_ns.update(
            {ConditionId(m): t for m, t in snapshot.last_order_ns.items()}
        )
        state.now_ns = max(state.now_ns, snapshot.ts_ns)
        for strategy in self.strategies:
            raw = snapshot.strategies.get(strategy.id)
            if raw is not None and isinstance(strategy, PersistentStrategy):
                strategy.restore(msgspec.json.decode(raw))

    def reconcile(self, reports: Iterable[ExecutionReport]) -> None:
        """Apply what reconciliation with the venue found (journaled like any report)."""
        for report in reports:
            self._reports.append(report)
        self._drain_reports()

    def replay(self, kind: JournalKind, record: object) -> None:
        """Apply one journaled record to the state, sending nothing (a restart's catch-up)."""
        state = self.state
        if kind is _K.SUBMIT and isinstance(record, SubmitOrder):
            self._track(record)
            self._next_id = max(self._next_id, _order_number(record.order.client_id))
        elif kind is _K.REPORT and isinstance(record, ExecutionReport):
            if self._apply_report(record) is not None and record.fill is not None:
                state.portfolio.apply_fill(record.fill)
        elif kind is _K.RESOLUTION and isinstance(record, MarketResolved):
            state.portfolio.resolve(record)
        elif kind is _K.KILL_SWITCH and isinstance(record, KillSwitch):
            state.kill_switch = record
        elif kind is _K.SNAPSHOT and isinstance(record, EngineSnapshot):
            self._day = record.day
            state.day_start_equity = record.day_start_equity

    # -- telemetry -------------------------------------------------------------------------

    def _latency(self, start_ns: int, evaluated_ns: int) -> None:
        order = self._first_order
        if self.telemetry is None or not self._first_recv or order is None:
            return
        self.telemetry.latency(
            LatencyRecord(
                ts_recv_ns=self._first_recv,
                market=order.market,
                token=order.token,
                decode_ns=start_ns - self._first_recv,
                evaluate_ns=evaluated_ns - start_ns,
                end_to_end_ns=self._first_command_ns - self._first_recv,
            )
        )

    def _record_signal(self, strategy: Strategy, signal: Signal, action: str) -> None:
        if self.telemetry is None and self.journal is None:
            return
        record = SignalRecord(
            ts_ns=self.state.now_ns,
            strategy=strategy.id,
            market=signal.market,
            token=signal.token,
            side=signal.side,
            edge=signal.edge,
            confidence=signal.confidence,
            fair_price=signal.fair_price,
            action=action,
        )
        if self.journal is not None:
            self.journal.append(_K.SIGNAL, record.ts_ns, record, strategy.id)
        if self.telemetry is not None:
            self.telemetry.signal(record)

    def _record_rejection(self, strategy: Strategy, rejected: Rejected) -> None:
        log.info("%s: risk rejected %s: %s", strategy.id, rejected.reason, rejected.detail)
        if self.telemetry is None and self.journal is None:
            return
        reason = f"risk {rejected.reason.value}: {rejected.detail}"
        record = _order_record(self.state.now_ns, strategy.id, "", rejected.intent,
                               OrderStatus.REJECTED, 0, reason)
        if self.journal is not None:
            self.journal.append(_K.RISK_REJECTED, record.ts_ns, record, strategy.id)
        if self.telemetry is not None:
            self.telemetry.order(record)

    def _record_order(self, strategy: str, order: Order) -> None:
        if self.telemetry is not None:
            self.telemetry.order(
                _order_record(order.updated_ns, strategy, order.client_id, order, order.status,
                              order.filled, order.reason)
            )

    def _record_fill(self, strategy: str, report: ExecutionReport) -> None:
        fill = report.fill
        if self.telemetry is None or fill is None:
            return
        self.telemetry.fill(
            FillRecord(
                ts_ns=fill.ts_ns,
                strategy=strategy,
                client_id=fill.client_id,
                market=fill.market,
                token=fill.token,
                side=fill.side,
                price=fill.price,
                size=fill.size,
                fee=fill.fee,
                trade_id=fill.trade_id,
                liquidity="taker" if report.taker else "maker",
            )
        )


def _offer(
    event: Event, strategies: list[Strategy], view: EngineView,
    intents: list[tuple[Strategy, Intent]],
) -> int:
    """Hand ``event`` to each of ``strategies``, collecting their intents; return how many."""
    for strategy in strategies:
        produced = strategy.on_event(event, view)
        if produced:  # most calls return (): no iterator for it (empty means falsy)
            for intent in produced:
                intents.append((strategy, intent))
    return len(strategies)


def _order_number(client_id: str) -> int:
    """The counter in a client id ``<strategy>-<n>`` (0 if it has none)."""
    number = client_id.rpartition("-")[2]
    return int(number) if number.isdigit() else 0


def _order_record(  # noqa: PLR0917 - one row of orders.csv
    ts_ns: int,
    strategy: str,
    client_id: str,
    order: Order | OrderIntent,
    status: OrderStatus,
    filled: int,
    reason: str,
) -> OrderRecord:
    return OrderRecord(
        ts_ns, strategy, client_id, order.market, order.token, order.side, order.price,
        order.size, order.time_in_force, status, filled, reason,
    )
