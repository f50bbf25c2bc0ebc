"""The backtest loop: recorded frames through the production engine on a replay clock.

The engine, the strategies, risk and the paper matching are the ones paper trading runs; only
the clock (set to each frame's receive time) and the source of events (the event store) differ.
Frames go to :meth:`Engine.handle` one at a time, as the live loop hands them
(:func:`~prediction_engine.engine.messages.frames`), so a zero-latency replay of a recorded
paper session makes the same decisions.

Between frames the replay fires what is due, in time order: the engine's timer every
``timer_interval_ns`` of replay time (stale books, GTD expiry, the daily-loss halt), an equity
sample every ``equity_interval_ns``, and, with latency, commands reaching the venue, reports
reaching the engine and (with feed latency) frames reaching the engine.

This module is compiled with mypyc (see ``setup.py``): the zero-latency path costs a few
comparisons per frame on top of :meth:`Engine.handle`. Its configuration lives in
:mod:`.config`, a plain msgspec struct.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from prediction_engine.backtest.config import BacktestConfig
from prediction_engine.backtest.execution import LatentExecution, Schedule
from prediction_engine.backtest.latency import Latency
from prediction_engine.backtest.results import EquityPoint, RunRecorder
from prediction_engine.core.book_sync import BookSet
from prediction_engine.core.commands import ExecutionReport
from prediction_engine.core.events import BookDelta, BookSnapshot, TickSizeChanged, Trade
from prediction_engine.core.ids import TokenId
from prediction_engine.engine.clock import ManualClock
from prediction_engine.engine.loop import Engine
from prediction_engine.engine.messages import Message, TimerTick
from prediction_engine.execution.paper import PaperExecution
from prediction_engine.strategy.base import Strategy

__all__ = ["Backtest", "BacktestConfig", "Frame"]

_NEVER = 1 << 62

Frame = tuple[int, Sequence[Message]]
"""One recorded venue frame: its receive time and the messages parsed from it."""

_BOOK = (BookDelta, BookSnapshot, TickSizeChanged)


@dataclass
class _Due:
    timer: int = _NEVER
    equity: int = _NEVER


class Backtest:
    """One replay: build it, :meth:`run` it over frames, read :attr:`recorder` and the engine."""

    def __init__(self, strategies: Sequence[Strategy], config: BacktestConfig) -> None:
        self.config = config
        self.clock = ManualClock(0)
        self.recorder = RunRecorder()
        self.engine = Engine(strategies, self.clock, config.engine, telemetry=self.recorder)
        self.now = 0
        self.frames = 0
        self.events = 0
        self._due = _Due()
        self._schedule = Schedule()
        state = self.engine.state
        latency = Latency(config.latency)
        self._latency = latency
        if config.latency.zero:
            self.venue_books: BookSet | None = None
            self.paper = PaperExecution(
                state.books.book, state.fee_schedule, self.engine.post, queue=config.queue
            )
            self.engine.attach(self.paper)
            self._latent: LatentExecution | None = None
            return
        # The venue keeps its own books only when the engine sees them late.
        feed_delayed = config.latency.feed_ns > 0 or config.latency.table is not None
        self.venue_books = BookSet() if feed_delayed else None
        books = self.venue_books.book if self.venue_books is not None else state.books.book
        self.paper = PaperExecution(books, state.fee_schedule, self._venue_report,
                                    queue=config.queue)
        self._latent = LatentExecution(
            self.paper,
            latency,
            self._schedule,
            lambda: self.now,
            self._deliver,
            venue_sees_engine_events=not feed_delayed,
        )
        self.engine.attach(self._latent)

    # -- the loop ----------------------------------------------------------------------------

    def run(self, frames: Iterable[Frame]) -> None:
        """Replay ``frames`` (in recorded order), then deliver whatever is still in flight."""
        engine, clock, due = self.engine, self.clock, self._due
        # With zero latency the schedule stays empty: only the timer and sampling fall due.
        latent = self._latent is not None
        first = True
        next_due = 0
        for ts, messages in frames:
            if first:
                first = False
                self._start(ts)
            if ts >= next_due or (latent and self._schedule):
                self._advance(ts)
                next_due = min(due.timer, due.equity)
            if ts > self.now:
                self.now = ts
                clock.set(ts)
            self.frames += 1
            self.events += len(messages)
            if latent:
                self._venue_frame(ts, messages)
            else:
                engine.handle(messages)
        if not first:
            self._finish()

    def _start(self, ts: int) -> None:
        self.now = ts
        self.clock.set(ts)
        self._due.timer = ts + self.config.timer_interval_ns
        self._due.equity = ts
        self.engine.state.now_ns = ts

    def _finish(self) -> None:
        # Let what is in flight land, then one last equity sample.
        while self._schedule:
            ts = self._schedule.next_ns() or self.now
            self._advance(ts)
        self._sample(self.now)

    def _advance(self, until: int) -> None:
        """Fire, in time order, everything due at or before ``until``."""
        due, schedule = self._due, self._schedule
        while True:
            scheduled = schedule.next_ns()
            item = _NEVER if scheduled is None else scheduled
            if due.equity <= until and due.equity <= min(due.timer, item):
                self._sample(due.equity)
                due.equity += self.config.equity_interval_ns
            elif due.timer <= until and due.timer <= item:
                self._tick(due.timer)
            elif item <= until:
                ts, action = schedule.pop()
                self._set_now(ts)
                action(ts)
            else:
                return

    def _set_now(self, ts: int) -> None:
        if ts > self.now:
            self.now = ts
            self.clock.set(ts)

    def _tick(self, ts: int) -> None:
        self._set_now(ts)
        self.engine.handle((TimerTick(self.now),))
        self._due.timer = ts + self.config.timer_interval_ns

    def _sample(self, ts: int) -> None:
        state = self.engine.state
        valuation = state.portfolio.mark(state.marks())
        self.recorder.equity.append(
            EquityPoint(ts, valuation.cash, valuation.equity, valuation.market_value)
        )

    # -- latency -----------------------------------------------------------------------------

    def _venue_frame(self, ts: int, messages: Sequence[Message]) -> None:
        """The venue sees the frame now; the engine when the feed delivers it."""
        venue_books = self.venue_books
        if venue_books is None:
            self.engine.handle(messages)
            return
        watched = self.paper.watched
        for message in messages:
            if isinstance(message, _BOOK):
                venue_books.apply(message)
                if message.token in watched:
                    self.paper.on_market_event(message)
            elif isinstance(message, Trade) and message.token in watched:
                self.paper.on_market_event(message)
        arrives = ts + self._latency.feed(ts)
        self._schedule.at(arrives, lambda _ts: self.engine.handle(messages))

    def _venue_report(self, report: ExecutionReport) -> None:
        latent = self._latent
        assert latent is not None
        latent.report(report)

    def _deliver(self, ts: int, report: ExecutionReport) -> None:
        def land(_ts: int) -> None:
            self.engine.post(report)
            self.engine.handle(())

        self._schedule.at(ts, land)

    # -- results -----------------------------------------------------------------------------

    def positions(self) -> list[tuple[TokenId, int, int, int]]:
        """(token, shares, cost basis, mark) of every open position at the end."""
        state = self.engine.state
        marks = state.marks()
        return [
            (p.token, p.shares, p.basis, marks.get(p.token, 0))
            for p in sorted(state.portfolio.open_positions(), key=lambda p: p.token)
        ]
