"""A plain-data snapshot of a trading runtime, for live displays and summaries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from prediction_engine.core.ids import TokenId
from prediction_engine.core.numbers import format_micro
from prediction_engine.engine.state import EngineState
from prediction_engine.trading.runtime import TradingRuntime

__all__ = ["PositionRow", "TradingStatus", "position_rows", "status_of", "summary_json"]


@dataclass(frozen=True)
class PositionRow:
    """One token held (or once held), with money as exact decimal strings."""

    token: str
    slug: str
    outcome: str
    shares: str
    average_price: str
    mark: str
    realized: str
    fees: str


@dataclass(frozen=True)
class TradingStatus:
    """Where a paper (or live) session stands."""

    elapsed_s: float
    strategies: list[str]
    markets: int
    tokens: int
    books_synced: int
    frames: int
    resyncs: int
    engine: dict[str, int]
    cash: str
    equity: str
    realized: str
    unrealized: str
    fees: str
    pnl: str
    open_orders: int
    kill_switch: str
    positions: list[PositionRow] = field(default_factory=list)


def position_rows(state: EngineState, marks: Mapping[TokenId, int]) -> list[PositionRow]:
    """Every position the portfolio has (flat ones keep their realized PnL), for display."""
    rows = []
    for token, position in state.portfolio.positions.items():
        market = state.market_of.get(token)
        outcome = ""
        if market is not None and token in market.tokens:
            outcome = market.outcomes[market.tokens.index(token)]
        average = position.average_price
        mark = marks.get(token)
        rows.append(PositionRow(
            token=token,
            slug=market.slug if market else position.market,
            outcome=outcome,
            shares=format_micro(position.shares),
            average_price="" if average is None else f"{average:.4f}",
            mark="" if mark is None else format_micro(mark),
            realized=format_micro(position.realized),
            fees=format_micro(position.fees),
        ))
    return rows


def status_of(runtime: TradingRuntime, elapsed_s: float) -> TradingStatus:
    """Snapshot ``runtime`` (read-only; call from any task of the same event loop)."""
    engine, session = runtime.engine, runtime.session
    state = engine.state
    marks = state.marks()
    valuation = state.portfolio.mark(marks)
    pnl = valuation.equity - state.portfolio.starting_cash
    tokens = session.tokens
    return TradingStatus(
        elapsed_s=elapsed_s,
        strategies=[s.id for s in engine.strategies],
        markets=len(engine.routes.by_market),
        tokens=len(tokens),
        books_synced=sum(1 for t in tokens if state.books.book(t) is not None),
        frames=session.counters.frames,
        resyncs=session.counters.resyncs,
        engine=asdict(engine.counters),
        cash=format_micro(state.portfolio.cash),
        equity=format_micro(valuation.equity),
        realized=format_micro(valuation.realized),
        unrealized=format_micro(valuation.unrealized),
        fees=format_micro(valuation.fees),
        pnl=format_micro(pnl),
        open_orders=len(state.open_orders),
        kill_switch=state.kill_switch.reason if state.kill_switch.engaged else "",
        positions=position_rows(state, marks),
    )


def summary_json(status: TradingStatus) -> dict[str, object]:
    """The summary file's content."""
    return asdict(status)
