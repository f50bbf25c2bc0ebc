"""Compute a run's :class:`~prediction_engine.report.summary.Summary` from its files.

PnL attribution, exact in micro-units: for each (strategy, token) the cash flows of its fills
(``sells - buys - fees``, the cash leg of a fill being ``price x size`` floored to the
micro-unit, as the portfolio books it), plus its net shares valued at the end: at the payout
(1 for the winning token, 0 for the others) if the market resolved during the run, else at the
token's final ``mark`` in ``positions.csv``, else (no mark) at its last fill price. A
(strategy, market) position sums its tokens; strategy and market totals sum positions, and the
total PnL sums them all. ROI = total PnL / starting cash.

A (strategy, market) position is **done** when its market resolved (``settled``) or its net
shares are zero in every token (``closed``); otherwise it is ``open``. **Hit rate** = the share
of done positions whose PnL is > 0. **Profit factor** = the sum of the done positions' profits /
the sum of their losses (``None`` without losses). Volume is the sum of the fills' cash legs.
Equity-curve metrics: :mod:`prediction_engine.report.curve`; forecasts:
:mod:`prediction_engine.report.forecast`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from prediction_engine.core.numbers import ONE
from prediction_engine.report.curve import curve_metrics, default_period_s
from prediction_engine.report.forecast import forecast_summaries
from prediction_engine.report.rundir import Fill, Resolution, Run
from prediction_engine.report.summary import (
    SUMMARY_VERSION,
    MarketSummary,
    PositionPnl,
    StrategySummary,
    Summary,
    stable,
)

__all__ = ["money", "summarize"]

_MICRO = Decimal("0.000001")


def money(micro: int) -> Decimal:
    """Micro-units as an exact ``Decimal`` with 6 decimals (``5900000`` -> ``5.900000``)."""
    return (Decimal(micro) / 1_000_000).quantize(_MICRO)


def _optional_money(micro: int | None) -> Decimal | None:
    return None if micro is None else money(micro)


@dataclass(slots=True)
class _Leg:
    """Running totals of one strategy in one token (internal accumulator)."""

    market: str
    cash: int = 0
    shares: int = 0
    fills: int = 0
    volume: int = 0
    fees: int = 0
    last_price: int = 0


@dataclass(frozen=True, slots=True)
class _Position:
    strategy: str
    market: str
    pnl: int
    fills: int
    volume: int
    fees: int
    status: str


def _legs(fills: Iterable[Fill]) -> dict[tuple[str, str], _Leg]:
    legs: dict[tuple[str, str], _Leg] = {}
    for fill in fills:
        leg = legs.setdefault((fill.strategy, fill.token), _Leg(market=fill.market))
        direction = 1 if fill.side == "BUY" else -1
        leg.cash -= direction * fill.notional + fill.fee
        leg.shares += direction * fill.size
        leg.fills += 1
        leg.volume += fill.notional
        leg.fees += fill.fee
        leg.last_price = fill.price
    return legs


def _final_price(token: str, leg: _Leg, resolutions: Mapping[str, Resolution],
                 marks: Mapping[str, int]) -> int:
    resolution = resolutions.get(leg.market)
    if resolution is not None:
        return ONE if token == resolution.winning_token else 0
    return marks.get(token, leg.last_price)


def _positions(run: Run, resolutions: Mapping[str, Resolution]) -> list[_Position]:
    marks = {row.token: row.mark for row in run.positions if row.mark is not None}
    grouped: dict[tuple[str, str], list[tuple[str, _Leg]]] = defaultdict(list)
    for (strategy, token), leg in _legs(run.fills).items():
        grouped[strategy, leg.market].append((token, leg))
    result = []
    for (strategy, market), legs in sorted(grouped.items()):
        pnl = sum(leg.cash + leg.shares * _final_price(token, leg, resolutions, marks) // ONE
                  for token, leg in legs)
        if market in resolutions:
            status = "settled"
        elif all(leg.shares == 0 for _, leg in legs):
            status = "closed"
        else:
            status = "open"
        result.append(_Position(
            strategy=strategy, market=market, pnl=pnl, status=status,
            fills=sum(leg.fills for _, leg in legs), volume=sum(leg.volume for _, leg in legs),
            fees=sum(leg.fees for _, leg in legs),
        ))
    return result


def _hit_rate(positions: Iterable[_Position]) -> tuple[int, int, float | None]:
    """(done positions, winners, hit rate) of ``positions``."""
    done = [p for p in positions if p.status != "open"]
    wins = sum(1 for p in done if p.pnl > 0)
    return len(done), wins, stable(wins / len(done)) if done else None


def _slugs(run: Run) -> dict[str, str]:
    slugs = {row.market: row.slug for row in run.positions if row.slug}
    slugs.update((r.market, r.slug) for r in run.resolutions if r.slug)
    slugs.update((f.market, f.slug) for f in run.fills if f.slug)
    return slugs


def _by_strategy(strategies: Iterable[str], positions: list[_Position]) -> list[StrategySummary]:
    result = []
    for strategy in sorted(set(strategies) | {p.strategy for p in positions}):
        own = [p for p in positions if p.strategy == strategy]
        done, _, hit_rate = _hit_rate(own)
        result.append(StrategySummary(
            strategy=strategy, pnl=money(sum(p.pnl for p in own)),
            fills=sum(p.fills for p in own), volume=money(sum(p.volume for p in own)),
            fees=money(sum(p.fees for p in own)), positions_done=done, hit_rate=hit_rate,
        ))
    return result


def _by_market(positions: list[_Position], slugs: Mapping[str, str],
               resolutions: Mapping[str, Resolution]) -> list[MarketSummary]:
    result = []
    for market in sorted({p.market for p in positions}):
        own = [p for p in positions if p.market == market]
        resolution = resolutions.get(market)
        result.append(MarketSummary(
            market=market, slug=slugs.get(market, ""), pnl=money(sum(p.pnl for p in own)),
            fills=sum(p.fills for p in own), volume=money(sum(p.volume for p in own)),
            fees=money(sum(p.fees for p in own)),
            winning_outcome=None if resolution is None else resolution.winning_outcome,
        ))
    return result


def _resolutions(run: Run) -> dict[str, Resolution]:
    """The first resolution of each market (a market resolves once)."""
    result: dict[str, Resolution] = {}
    for resolution in sorted(run.resolutions, key=lambda r: r.ts_ns):
        result.setdefault(resolution.market, resolution)
    return result


def _span(run: Run) -> tuple[int | None, int | None]:
    """First and last time of the run: from ``run.json``, else from the equity curve."""
    first = run.equity[0].ts_ns if run.equity else None
    last = run.equity[-1].ts_ns if run.equity else None
    return (first if run.info.first_ns is None else run.info.first_ns,
            last if run.info.last_ns is None else run.info.last_ns)


def summarize(run: Run, *, period_s: int | None = None) -> Summary:
    """Every metric of ``run``: see this module's docstring and ``report.curve``'s.

    ``period_s`` is the period the equity curve is resampled to for Sharpe and Sortino; by
    default one minute for a run shorter than two days, an hour otherwise
    (:func:`~prediction_engine.report.curve.default_period_s`).
    """
    resolutions = _resolutions(run)
    positions = _positions(run, resolutions)
    done, wins, hit_rate = _hit_rate(positions)
    profits = sum(p.pnl for p in positions if p.status != "open" and p.pnl > 0)
    losses = -sum(p.pnl for p in positions if p.status != "open" and p.pnl < 0)
    total = sum(p.pnl for p in positions)
    cash = run.info.starting_cash
    first_ns, last_ns = _span(run)
    if period_s is None:
        period_s = default_period_s(first_ns, last_ns)
    curve = curve_metrics(run.equity, period_s)
    strategies = run.info.strategies or tuple(sorted({f.strategy for f in run.fills}))
    slugs = _slugs(run)
    return Summary(
        version=SUMMARY_VERSION,
        strategies=strategies,
        starting_cash=money(cash),
        total_pnl=money(total),
        roi=stable(float(Fraction(total, cash))) if cash > 0 else None,
        fills=len(run.fills),
        volume=money(sum(f.notional for f in run.fills)),
        fees=money(sum(f.fee for f in run.fills)),
        markets_traded=len({f.market for f in run.fills}),
        markets_resolved=len(resolutions),
        positions_done=done,
        positions_open=len(positions) - done,
        wins=wins,
        hit_rate=hit_rate,
        gross_profit=money(profits),
        gross_loss=money(losses),
        profit_factor=stable(float(Fraction(profits, losses))) if losses else None,
        max_drawdown=_optional_money(curve.max_drawdown),
        max_drawdown_fraction=stable(curve.max_drawdown_fraction),
        annualized_return=stable(curve.annualized_return),
        sharpe=stable(curve.sharpe),
        sortino=stable(curve.sortino),
        calmar=stable(curve.calmar),
        return_period_s=period_s,
        return_periods=curve.return_periods,
        exposure_mean=_optional_money(curve.exposure_mean),
        exposure_max=_optional_money(curve.exposure_max),
        first_ns=first_ns,
        last_ns=last_ns,
        by_strategy=tuple(_by_strategy(strategies, positions)),
        by_market=tuple(_by_market(positions, slugs, resolutions)),
        positions=tuple(
            PositionPnl(strategy=p.strategy, market=p.market, slug=slugs.get(p.market, ""),
                        pnl=money(p.pnl), fills=p.fills, status=p.status)
            for p in positions
        ),
        forecasts=forecast_summaries(run.signals, resolutions),
    )
