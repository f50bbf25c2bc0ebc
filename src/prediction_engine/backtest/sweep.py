"""Parameter sweeps: every combination of a grid, backtested in parallel processes, ranked.

A grid is a TOML file. Top-level keys apply to every chosen strategy that has the parameter;
a table named after a strategy applies to it alone. A list gives the values to try, a scalar a
value every run shares::

    min_edge = [0.005, 0.01, 0.02]      # every strategy with a min_edge
    [updown_fade]
    sigma_window_s = [60, 300]
    max_spread = 0.05                   # fixed

Runs go to ``OUT/run-0001`` ... in the grid's order (the last key varies fastest), each a full
run directory (``pengine report OUT/run-0001`` renders one); ``OUT/sweep.csv`` and
``OUT/sweep.json`` rank them. Runs are independent processes, so results do not depend on
``--jobs``.
"""

from __future__ import annotations

import csv
import itertools
import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prediction_engine.backtest.config import RANK_KEYS
from prediction_engine.backtest.session import BacktestOptions, run_backtest

__all__ = ["RANK_KEYS", "SweepError", "SweepRow", "load_grid", "run_sweep"]


_MAX_RUNS = 10_000


class SweepError(ValueError):
    """A grid that cannot be run; the message says what to fix."""


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise SweepError(f"grid values must be numbers, strings or booleans, got {value!r}")


def load_grid(path: Path) -> list[tuple[str, ...]]:
    """Every combination of the grid in ``path`` as ``--param`` strings (``[strategy.]key=v``)."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise SweepError(f"cannot read the grid {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise SweepError(f"{path} is not valid TOML: {e}") from e
    axes: list[list[str]] = []

    def add(prefix: str, key: str, value: object) -> None:
        values = value if isinstance(value, list) else [value]
        if not values:
            raise SweepError(f"{path}: {prefix}{key} has no values")
        axes.append([f"{prefix}{key}={_text(v)}" for v in values])

    for key, value in data.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                if isinstance(inner_value, dict):
                    raise SweepError(f"{path}: [{key}.{inner}] nests too deep")
                add(f"{key}.", inner, inner_value)
        else:
            add("", key, value)
    if not axes:
        raise SweepError(f"{path}: the grid is empty")
    combos = list(itertools.islice(itertools.product(*axes), _MAX_RUNS + 1))
    if len(combos) > _MAX_RUNS:
        raise SweepError(f"{path}: more than {_MAX_RUNS:,} combinations; narrow the grid")
    return combos


@dataclass(frozen=True)
class SweepRow:
    """One run of a sweep: its parameters, where it went and its headline metrics."""

    run: str
    params: tuple[str, ...]
    metrics: dict[str, Any]
    error: str | None = None


def _one(options: BacktestOptions) -> dict[str, Any]:
    from prediction_engine.report import encode_summary, load_run, summarize

    outcome = run_backtest(replace(options, report=False))
    assert options.out is not None
    summary = summarize(load_run(options.out))
    (options.out / "summary.json").write_bytes(encode_summary(summary))
    result: dict[str, Any] = json.loads(encode_summary(summary))
    result["orders"] = outcome.counters["orders"]
    return result


def _metric(row: SweepRow, key: str) -> float:
    value = row.metrics.get(key)
    if value is None or row.error:
        return float("-inf")
    if value == "inf":
        return float("inf")
    return float(value)


def run_sweep(
    base: BacktestOptions,
    grid: Sequence[tuple[str, ...]],
    out: Path,
    *,
    jobs: int,
    rank_by: str = "total_pnl",
    on_done: Callable[[SweepRow], None] | None = None,
) -> list[SweepRow]:
    """Backtest ``base`` once per grid combination (its params added to ``base.params``) in
    ``jobs`` processes; return the rows best first and write ``sweep.csv``/``sweep.json``."""
    if rank_by not in RANK_KEYS:
        raise SweepError(f"cannot rank by {rank_by!r}; one of {', '.join(RANK_KEYS)}")
    if jobs < 1:
        raise SweepError("--jobs must be at least 1")
    out.mkdir(parents=True, exist_ok=True)
    runs = {
        f"run-{i:04d}": replace(base, params=(*base.params, *combo), out=out / f"run-{i:04d}")
        for i, combo in enumerate(grid, start=1)
    }
    params = {name: combo for name, combo in zip(runs, grid, strict=True)}
    rows: list[SweepRow] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_one, options): name for name, options in runs.items()}
        for future in as_completed(futures):
            name = futures[future]
            try:
                row = SweepRow(name, params[name], future.result())
            except Exception as e:  # one bad combination must not end the sweep
                row = SweepRow(name, params[name], {}, error=f"{type(e).__name__}: {e}")
            rows.append(row)
            if on_done is not None:
                on_done(row)
    rows.sort(key=lambda r: (-_metric(r, rank_by), r.run))
    _write(out, rows, rank_by)
    return rows


def _write(out: Path, rows: Sequence[SweepRow], rank_by: str) -> None:
    columns = ("total_pnl", "roi", "sharpe", "sortino", "calmar", "max_drawdown",
               "profit_factor", "hit_rate", "fills", "fees", "orders")
    with (out / "sweep.csv").open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("rank", "run", "params", *columns, "error"))
        for rank, row in enumerate(rows, start=1):
            writer.writerow((rank, row.run, " ".join(row.params),
                             *(_cell(row.metrics, c) for c in columns), row.error or ""))
    document: Mapping[str, Any] = {
        "rank_by": rank_by,
        "runs": [
            {"rank": rank, "run": r.run, "params": list(r.params), "error": r.error,
             **{c: r.metrics.get(c) for c in columns}}
            for rank, r in enumerate(rows, start=1)
        ],
    }
    (out / "sweep.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def _cell(metrics: Mapping[str, Any], key: str) -> str:
    value = metrics.get(key)
    return "" if value is None else str(value)
