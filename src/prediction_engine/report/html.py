"""Render a run and its summary as one self-contained HTML page (plotly, no network).

plotly.js is inlined once in the page head; every chart is a ``div`` with a fixed id
(``chart-<name>``) and no timestamp is written, so the same run gives the same bytes.
Charts: equity and drawdown, PnL by strategy, PnL by market, fills and cumulative fees,
exposure, and (when there are scored forecasts) calibration.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from prediction_engine.core.numbers import SCALE
from prediction_engine.report.curve import drawdowns
from prediction_engine.report.rundir import Run
from prediction_engine.report.summary import ForecastSummary, Summary, headline

__all__ = ["CHARTS", "render_html"]

CHARTS = ("equity", "pnl-strategy", "pnl-market", "fills", "exposure", "calibration")
"""Chart names; each is drawn in ``div#chart-<name>`` (calibration only with forecasts)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_GREEN, _RED, _BLUE, _GREY = "#2ca02c", "#d62728", "#1f77b4", "#7f7f7f"
_COLORS = ("#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22")
_PLOT_POINTS = 5000  # most points drawn per series
_MARKETS_SHOWN = 20  # best and worst markets each in the PnL bars; the rest are summed up
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
td, th { padding: 0.25rem 0.8rem; border-bottom: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; font-size: 0.9rem; }
"""


def _sampled(count: int) -> list[int]:
    """Indices of at most about ``_PLOT_POINTS`` evenly spread items, the last one included.

    Metrics use every sample; charts thin long series so that the page stays light.
    """
    step = -(-count // _PLOT_POINTS) or 1
    indices = list(range(0, count, step))
    if count and indices[-1] != count - 1:
        indices.append(count - 1)
    return indices


def _shown(count: int) -> str:
    shown = len(_sampled(count))
    return f" ({shown:,} of {count:,} shown)" if shown < count else ""


def _time(ns: int) -> str:
    moment = _EPOCH + timedelta(microseconds=ns // 1000)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _float(micro: int) -> float:
    return micro / SCALE


def _layout(fig: go.Figure, title: str, height: int = 420, empty: str = "") -> go.Figure:
    """Common layout; ``empty`` is written across the plot when there is nothing to draw."""
    if empty:
        fig.add_annotation(text=empty, xref="paper", yref="paper", x=0.5, y=0.5,
                           showarrow=False, font={"size": 16, "color": _GREY})
    fig.update_layout(
        title=title, height=height, template="plotly_white", hovermode="closest",
        margin={"l": 70, "r": 30, "t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def _equity_figure(run: Run) -> go.Figure:
    indices = _sampled(len(run.equity))
    points = [run.equity[i] for i in indices]
    losses = drawdowns(run.equity)
    times = [_time(p.ts_ns) for p in points]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35],
                        vertical_spacing=0.06)
    fig.add_trace(go.Scatter(x=times, y=[_float(p.equity) for p in points], name="equity",
                             mode="lines", line={"color": _BLUE}), row=1, col=1)
    fig.add_trace(go.Scatter(x=times, y=[-_float(losses[i]) for i in indices],
                             name="drawdown", mode="lines", fill="tozeroy",
                             line={"color": _RED}), row=2, col=1)
    fig.update_yaxes(title_text="equity (USD)", row=1, col=1)
    fig.update_yaxes(title_text="drawdown (USD)", row=2, col=1)
    return _layout(fig, f"Equity and drawdown{_shown(len(run.equity))}", 520,
                   "" if run.equity else "no equity samples")


def _bars(labels: Sequence[str], values: Sequence[Decimal], title: str,
          empty: str = "") -> go.Figure:
    numbers = [float(v) for v in values]
    fig = go.Figure(go.Bar(
        x=numbers, y=list(labels), orientation="h", name="PnL",
        marker={"color": [_GREEN if v >= 0 else _RED for v in numbers]},
        hovertemplate="%{y}: %{x:.6f} USD<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title_text="PnL (USD)", zeroline=True)
    return _layout(fig, title, max(260, 120 + 26 * len(labels)), empty)


def _unique(labels: Sequence[str], keys: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for label, key in zip(labels, keys, strict=True):
        shown = f"{label} ({key[:10]})" if label in seen else label
        seen.add(label)
        result.append(shown)
    return result


def _market_bars(summary: Summary) -> go.Figure:
    markets = sorted(summary.by_market, key=lambda m: (-m.pnl, m.market))
    labels = _unique([m.slug or m.market[:18] for m in markets], [m.market for m in markets])
    values = [m.pnl for m in markets]
    if len(markets) > 2 * _MARKETS_SHOWN:
        rest = values[_MARKETS_SHOWN:-_MARKETS_SHOWN]
        labels = [*labels[:_MARKETS_SHOWN], f"{len(rest)} other markets",
                  *labels[-_MARKETS_SHOWN:]]
        values = [*values[:_MARKETS_SHOWN], sum(rest, Decimal(0)), *values[-_MARKETS_SHOWN:]]
    return _bars(labels, values, "PnL by market", "" if markets else "no fills")


def _fills_figure(run: Run) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3],
                        vertical_spacing=0.06)
    largest = max((f.size for f in run.fills), default=SCALE)
    for side, color in (("BUY", _GREEN), ("SELL", _RED)):
        own = [f for f in run.fills if f.side == side]
        fills = [own[i] for i in _sampled(len(own))]
        fig.add_trace(go.Scatter(
            x=[_time(f.ts_ns) for f in fills], y=[_float(f.price) for f in fills],
            mode="markers", name=side.lower(),
            marker={"color": color, "size": [_float(f.size) for f in fills], "sizemode": "area",
                    "sizeref": 2 * _float(largest) / 28**2, "sizemin": 4, "opacity": 0.7},
            text=[f"{f.strategy} {f.slug or f.market[:10]} {f.outcome} {f.side} "
                  f"{_float(f.size):g} @ {_float(f.price):g}, fee {_float(f.fee):g}"
                  for f in fills],
            hovertemplate="%{text}<extra></extra>",
        ), row=1, col=1)
    fees = list(itertools.accumulate(f.fee for f in run.fills))
    indices = _sampled(len(run.fills))
    fig.add_trace(go.Scatter(x=[_time(run.fills[i].ts_ns) for i in indices],
                             y=[_float(fees[i]) for i in indices], name="cumulative fees",
                             mode="lines", line={"color": _GREY, "shape": "hv"}), row=2, col=1)
    fig.update_yaxes(title_text="price", range=[0, 1], row=1, col=1)
    fig.update_yaxes(title_text="fees (USD)", row=2, col=1)
    title = f"Fills (marker area = size) and cumulative fees{_shown(len(run.fills))}"
    return _layout(fig, title, 520,
                   "" if run.fills else "no fills")


def _exposure_figure(run: Run) -> go.Figure:
    points = [run.equity[i] for i in _sampled(len(run.equity))]
    fig = go.Figure(go.Scatter(
        x=[_time(p.ts_ns) for p in points], y=[_float(p.exposure) for p in points],
        name="exposure", mode="lines", fill="tozeroy", line={"color": _BLUE, "shape": "hv"},
    ))
    fig.update_yaxes(title_text="gross marked value of positions (USD)")
    return _layout(fig, f"Exposure{_shown(len(run.equity))}", 360,
                   "" if run.equity else "no equity samples")


def _calibration_figure(forecasts: Sequence[ForecastSummary]) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25],
                        vertical_spacing=0.06)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                             line={"color": _GREY, "dash": "dash"}), row=1, col=1)
    largest = max((b.count for f in forecasts for b in f.bins), default=1)
    for forecast, color in zip(forecasts, itertools.cycle(_COLORS), strict=False):
        bins = [b for b in forecast.bins if b.count]
        fig.add_trace(go.Scatter(
            x=[b.mean_forecast for b in bins], y=[b.observed_frequency for b in bins],
            mode="lines+markers", name=f"{forecast.strategy} (Brier {forecast.brier:.4f})",
            legendgroup=forecast.strategy, line={"color": color},
            marker={"size": [b.count for b in bins], "sizemode": "area",
                    "sizeref": 2 * largest / 24**2, "sizemin": 6},
            customdata=[b.count for b in bins],
            hovertemplate="forecast %{x:.3f}, observed %{y:.3f}, n=%{customdata}<extra></extra>",
        ), row=1, col=1)
        fig.add_trace(go.Bar(
            x=[(b.low + b.high) / 2 for b in forecast.bins], y=[b.count for b in forecast.bins],
            width=0.1 / len(forecasts), name=f"{forecast.strategy} forecasts",
            legendgroup=forecast.strategy, showlegend=False, marker={"color": color},
        ), row=2, col=1)
    fig.update_xaxes(range=[0, 1], row=1, col=1)
    fig.update_xaxes(title_text="forecast (fair price)", range=[0, 1], row=2, col=1)
    fig.update_yaxes(title_text="observed frequency", range=[-0.04, 1.04], row=1, col=1)
    fig.update_yaxes(title_text="forecasts", row=2, col=1)
    fig.update_layout(barmode="group")
    briers = ", ".join(f"{f.strategy} {f.brier:.4f}" for f in forecasts)
    return _layout(fig, f"Calibration (Brier score: {briers})", 600)


def _chart(fig: go.Figure, name: str) -> str:
    return str(fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{name}",
                           config={"displaylogo": False, "responsive": True}))


def _table(rows: Sequence[Sequence[str]], header: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i else ""}>{html.escape(c)}</td>'
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table>{f'<tr>{head}</tr>' if head else ''}{body}</table>"


def _strategy_table(summary: Summary) -> str:
    briers = {f.strategy: f"{f.brier:.4f} ({f.forecasts})" for f in summary.forecasts}
    rows = [
        (s.strategy, f"{s.pnl:,.2f}", f"{s.fills:,}", f"{s.volume:,.2f}", f"{s.fees:,.2f}",
         "n/a" if s.hit_rate is None else f"{s.hit_rate:.1%} of {s.positions_done}",
         briers.get(s.strategy, "n/a"))
        for s in summary.by_strategy
    ]
    return _table(rows, ("strategy", "PnL", "fills", "volume", "fees", "hit rate",
                         "Brier (forecasts)"))


def _run_info(run: Run, summary: Summary) -> str:
    span = "n/a"
    if summary.first_ns is not None and summary.last_ns is not None:
        span = f"{_time(summary.first_ns)[:19]} to {_time(summary.last_ns)[:19]} UTC"
    rows = [("strategies", ", ".join(summary.strategies) or "none"),
            ("parameters", run.info.params), ("data", run.info.data or "n/a"), ("period", span),
            ("events", f"{run.info.events:,}"), ("markets", f"{run.info.markets:,}")]
    return _table(rows)


_NOTES = """<p class=note>PnL per (strategy, token): sells - buys - fees, plus net shares at the
payout (1/0) if the market resolved, else at the final mark. Hit rate and profit factor count
(strategy, market) positions that were settled or closed. Sharpe and Sortino: returns of the
equity curve resampled every {period} s, annualized with sqrt(periods per year), risk-free
rate 0. Annualized return is simple (not compounded); Calmar = annualized return / max
drawdown (fraction of peak). Exposure = gross marked value of positions.</p>"""


def render_html(run: Run, summary: Summary) -> str:
    """The report page of ``run``: metrics tables, then the charts named in :data:`CHARTS`."""
    title = f"Backtest report: {', '.join(summary.strategies) or 'no strategy'}"
    strategies = [s.strategy for s in summary.by_strategy]
    charts = [
        ("Equity and drawdown", _chart(_equity_figure(run), "equity")),
        ("PnL by strategy", _chart(_bars(strategies, [s.pnl for s in summary.by_strategy],
                                         "PnL by strategy"), "pnl-strategy")),
        ("PnL by market", _chart(_market_bars(summary), "pnl-market")),
        ("Fills and fees", _chart(_fills_figure(run), "fills")),
        ("Exposure", _chart(_exposure_figure(run), "exposure")),
    ]
    if summary.forecasts:
        charts.append(("Calibration", _chart(_calibration_figure(summary.forecasts),
                                             "calibration")))
    else:
        charts.append(("Calibration", "<p class=note>No forecasts to score: calibration needs "
                       "signals with a fair_price in markets that resolved during the run.</p>"))
    sections = "\n".join(f"<h2>{html.escape(name)}</h2>\n{body}" for name, body in charts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<h1>{html.escape(title)}</h1>
{_run_info(run, summary)}
<h2>Headline</h2>
{_table(headline(summary))}
{_NOTES.format(period=summary.return_period_s)}
<h2>By strategy</h2>
{_strategy_table(summary)}
{sections}
</body>
</html>
"""
