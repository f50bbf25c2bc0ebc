"""A small journaled trading setup for the journal tests: an engine with paper execution on
one binary market, driven by hand-made book events and a scripted strategy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from prediction_engine.core.events import BookSnapshot, Event, MarketResolved, Side
from prediction_engine.core.ids import Venue
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import OrderIntent, TimeInForce
from prediction_engine.engine.clock import ManualClock
from prediction_engine.engine.loop import Engine, EngineConfig
from prediction_engine.engine.messages import TimerTick
from prediction_engine.execution.paper import PaperExecution
from prediction_engine.risk.limits import RiskLimits
from prediction_engine.storage.journal import Journal, JournalOptions, open_backend
from prediction_engine.strategy.base import Intent, StateView, Subscriptions
from tests.engine_helpers import S, market, snapshot

MARKET = market("journal", fee_rate="0.05")
CONFIG = {"test": "journal"}
RUN_ID = "0123456789abcdef"
START = 1_000 * ONE
LIMITS = RiskLimits(cooldown_ns=0, max_orders_per_market=20, max_open_orders=50)

# (side, price, shares, time in force): what the scripted strategy does on each YES update.
SCRIPT: tuple[tuple[Side, float, int, TimeInForce], ...] = (
    (Side.BUY, 0.42, 10, TimeInForce.FAK),   # takes 10 at the ask: a taker fill with a fee
    (Side.BUY, 0.40, 5, TimeInForce.GTC),    # rests at the bid
    (Side.SELL, 0.40, 4, TimeInForce.FAK),   # sells 4 of the 10 at the bid
    (Side.BUY, 0.38, 6, TimeInForce.GTC),    # rests lower
    (Side.BUY, 0.42, 5, TimeInForce.FOK),    # takes 5 more
)


class Scripted:
    """Plays :data:`SCRIPT`, one step per YES book snapshot; its step survives restarts."""

    name: ClassVar[str] = "scripted"

    def __init__(self) -> None:
        self.step = 0

    @property
    def id(self) -> str:
        return "scripted"

    def subscriptions(self, markets: Sequence[Market]) -> Subscriptions:
        return Subscriptions.for_markets(markets)

    def persist(self) -> object:
        return {"step": self.step}

    def restore(self, state: object) -> None:
        assert isinstance(state, dict)
        self.step = int(state["step"])

    def on_event(self, event: Event, view: StateView) -> Sequence[Intent]:
        if not isinstance(event, BookSnapshot) or event.token != MARKET.tokens[0]:
            return ()
        if self.step >= len(SCRIPT):
            return ()
        side, price, shares, tif = SCRIPT[self.step]
        self.step += 1
        return (OrderIntent(market=MARKET.condition_id, token=event.token, side=side,
                            price=round(price * ONE), size=shares * ONE, time_in_force=tif),)


def open_journal(target: str, options: JournalOptions | None = None) -> Journal:
    """A new session of the test run at ``target``."""
    return Journal.open(open_backend(target), RUN_ID, CONFIG,
                        options or JournalOptions(snapshot_interval_s=0))


def engine_with(journal: Journal | None, strategy: Scripted) -> tuple[Engine, PaperExecution]:
    """An engine trading :data:`MARKET` on paper, journaling to ``journal``."""
    engine = Engine([strategy], ManualClock(S),
                    EngineConfig(starting_cash=START, limits=LIMITS), journal=journal)
    prefix = "paper" if journal is None else f"paper-s{journal.session}"
    paper = PaperExecution(engine.state.books.book, engine.state.fee_schedule, engine.post,
                           id_prefix=prefix)
    engine.attach(paper)
    engine.add_markets([MARKET])
    return engine, paper


def books(ts: int) -> list[BookSnapshot]:
    """Both tokens' books: YES 0.40 bid / 0.42 ask, NO the mirror."""
    return [
        snapshot(MARKET, 0, [(0.40, 100), (0.38, 100)], [(0.42, 100), (0.44, 100)], ts),
        snapshot(MARKET, 1, [(0.58, 100), (0.56, 100)], [(0.60, 100), (0.62, 100)], ts),
    ]


def trade(engine: Engine, steps: int, start_ts: int = S) -> int:
    """Feed ``steps`` book updates (a timer tick, hence a snapshot, after each); return the
    next timestamp."""
    ts = start_ts
    for _ in range(steps):
        engine.handle(books(ts))
        engine.handle([TimerTick(ts)])
        ts += S
    return ts


def resolve(engine: Engine, ts: int, winner: int = 0) -> None:
    """The market resolves: ``winner`` pays 1."""
    engine.handle([MarketResolved(
        venue=Venue.POLYMARKET, ts_event=ts, ts_recv=ts, market=MARKET.condition_id,
        market_id=MARKET.market_id, tokens=MARKET.tokens, winning_token=MARKET.tokens[winner],
        winning_outcome=MARKET.outcomes[winner],
    )])
