"""Read a backtest run directory (``run.json`` and the CSV journals) into typed, exact rows.

The format is the one ``pengine backtest`` writes (docs: the issue 5 contract): money, prices
and sizes are decimal text with at most 6 decimals, read here into integer micro-units so that
every sum is exact; ``fair_price`` is a probability, read as a float. Only ``run.json`` must
exist; a missing journal reads as empty (a run without signals has no ``signals.csv`` rows).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import msgspec

from prediction_engine.core.numbers import ONE, FixedPointError, parse_micro

__all__ = [
    "RUN_VERSION",
    "EquityPoint",
    "Fill",
    "NotARunError",
    "PositionRow",
    "Resolution",
    "Run",
    "RunFormatError",
    "RunInfo",
    "Signal",
    "is_run",
    "load_run",
    "parse_signed_micro",
]

T = TypeVar("T")
RUN_VERSION = 1


class RunFormatError(ValueError):
    """A run file that does not follow the run-directory format; the message names file and line."""


class NotARunError(RunFormatError):
    """The directory holds no ``run.json``: it is not something ``pengine backtest`` wrote."""


class RunInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What ``run.json`` says about the run. Money in micro-units; ``params`` as sorted JSON."""

    version: int
    starting_cash: int
    strategies: tuple[str, ...] = ()
    params: str = "{}"
    data: str = ""
    events: int = 0
    markets: int = 0
    first_ns: int | None = None
    last_ns: int | None = None


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    """One row of ``fills.csv``: price, size and fee in micro-units."""

    ts_ns: int
    strategy: str
    market: str
    slug: str
    token: str
    outcome: str
    side: str
    price: int
    size: int
    fee: int
    liquidity: str

    @property
    def notional(self) -> int:
        """Cash paid (BUY) or received (SELL) before fees, floored as the portfolio does."""
        return self.price * self.size // ONE


class Signal(msgspec.Struct, frozen=True, kw_only=True):
    """One row of ``signals.csv``; ``fair_price`` is the forecast that ``token`` pays out."""

    ts_ns: int
    strategy: str
    market: str
    token: str
    fair_price: float | None


class EquityPoint(msgspec.Struct, frozen=True, kw_only=True):
    """One sample of ``equity.csv`` (signed micro-units)."""

    ts_ns: int
    cash: int
    equity: int
    exposure: int


class Resolution(msgspec.Struct, frozen=True, kw_only=True):
    """One row of ``resolutions.csv``: the market's winning token."""

    ts_ns: int
    market: str
    slug: str
    winning_token: str
    winning_outcome: str


class PositionRow(msgspec.Struct, frozen=True, kw_only=True):
    """One row of ``positions.csv`` at the end of the run; ``mark`` is ``None`` when unknown."""

    market: str
    slug: str
    token: str
    outcome: str
    shares: int
    mark: int | None


class Run(msgspec.Struct, frozen=True, kw_only=True):
    """A whole run directory. Fills, signals and equity are in time order (stable)."""

    path: str
    info: RunInfo
    fills: tuple[Fill, ...]
    signals: tuple[Signal, ...]
    equity: tuple[EquityPoint, ...]
    resolutions: tuple[Resolution, ...]
    positions: tuple[PositionRow, ...]


class _RunJson(msgspec.Struct, kw_only=True):
    starting_cash: str | int
    version: int = RUN_VERSION
    strategies: list[str] = msgspec.field(default_factory=list)
    params: msgspec.Raw = msgspec.Raw(b"{}")
    data: str = ""
    events: int = 0
    markets: int = 0
    first_ns: int | None = None
    last_ns: int | None = None


def parse_signed_micro(text: str) -> int:
    """Parse a decimal with at most 6 decimals and an optional ``-`` into micro-units."""
    text = text.strip()
    if text.startswith("-"):
        return -parse_micro(text[1:])
    return parse_micro(text)


def is_run(path: Path) -> bool:
    """Whether ``path`` is a run directory (it holds ``run.json``)."""
    return (path / "run.json").is_file()


def _read_info(path: Path) -> RunInfo:
    file = path / "run.json"
    if not path.is_dir():
        raise NotARunError(
            f"{path} is not a directory: pass the run directory that `pengine backtest` wrote"
        )
    if not file.is_file():
        raise NotARunError(
            f"{path} is not a backtest run directory (no run.json): pass a directory that "
            "`pengine backtest` wrote"
        )
    try:
        raw = msgspec.json.decode(file.read_bytes(), type=_RunJson)
        params = msgspec.json.encode(msgspec.json.decode(raw.params), order="sorted").decode()
        cash = parse_signed_micro(str(raw.starting_cash))
    except (msgspec.DecodeError, msgspec.ValidationError, FixedPointError) as e:
        raise RunFormatError(f"{file}: {e}") from e
    if raw.version != RUN_VERSION:
        raise RunFormatError(
            f"{file}: run format version {raw.version}, this pengine reads version "
            f"{RUN_VERSION}: re-run the backtest, or use the pengine that wrote it"
        )
    return RunInfo(
        version=raw.version, starting_cash=cash, strategies=tuple(raw.strategies),
        params=params, data=raw.data, events=raw.events, markets=raw.markets,
        first_ns=raw.first_ns, last_ns=raw.last_ns,
    )


def _rows(
    file: Path, columns: tuple[str, ...], build: Callable[[dict[str, str]], T]
) -> Iterator[T]:
    """Yield ``build(row)`` for every data row; a bad row raises naming the file and line."""
    if not file.is_file():
        return
    with file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise RunFormatError(f"{file}: missing column(s) {', '.join(missing)}")
        for row in reader:
            try:
                yield build(row)
            except (ValueError, TypeError) as e:
                raise RunFormatError(f"{file} line {reader.line_num}: {e}") from e


def _side(text: str) -> str:
    if text not in ("BUY", "SELL"):
        raise ValueError(f"side must be BUY or SELL, got {text!r}")
    return text


def _probability(text: str) -> float | None:
    """A forecast, or ``None`` for an empty cell or a value that is no probability (nan, 1.2)."""
    if not text.strip() or text.strip() == "None":
        return None
    value = float(text)  # malformed text raises: the file is broken, not the forecast
    return value if 0.0 <= value <= 1.0 else None


def _fill(row: dict[str, str]) -> Fill:
    return Fill(
        ts_ns=int(row["ts_ns"]), strategy=row["strategy"], market=row["market"],
        slug=row.get("slug") or "", token=row["token"], outcome=row.get("outcome") or "",
        side=_side(row["side"]), price=parse_micro(row["price"]), size=parse_micro(row["size"]),
        fee=parse_micro(row["fee"] or "0"), liquidity=row.get("liquidity") or "",
    )


def _signal(row: dict[str, str]) -> Signal:
    return Signal(
        ts_ns=int(row["ts_ns"]), strategy=row["strategy"], market=row["market"],
        token=row["token"], fair_price=_probability(row.get("fair_price") or ""),
    )


def _equity(row: dict[str, str]) -> EquityPoint:
    return EquityPoint(
        ts_ns=int(row["ts_ns"]), cash=parse_signed_micro(row["cash"]),
        equity=parse_signed_micro(row["equity"]),
        exposure=parse_signed_micro(row.get("exposure") or "0"),
    )


def _resolution(row: dict[str, str]) -> Resolution:
    return Resolution(
        ts_ns=int(row["ts_ns"]), market=row["market"], slug=row.get("slug") or "",
        winning_token=row["winning_token"], winning_outcome=row.get("winning_outcome") or "",
    )


def _position(row: dict[str, str]) -> PositionRow:
    mark = (row.get("mark") or "").strip()
    return PositionRow(
        market=row["market"], slug=row.get("slug") or "", token=row["token"],
        outcome=row.get("outcome") or "", shares=parse_signed_micro(row["shares"]),
        mark=parse_micro(mark) if mark else None,
    )


def load_run(path: Path) -> Run:
    """Read the run directory at ``path``.

    Raises :class:`NotARunError` if there is no ``run.json``, :class:`RunFormatError` (naming
    the file and line) for a malformed file.
    """
    info = _read_info(path)
    fills = list(_rows(path / "fills.csv", ("ts_ns", "strategy", "market", "token", "side",
                                             "price", "size", "fee"), _fill))
    signals = list(_rows(path / "signals.csv", ("ts_ns", "strategy", "market", "token"), _signal))
    equity = list(_rows(path / "equity.csv", ("ts_ns", "cash", "equity"), _equity))
    resolutions = _rows(path / "resolutions.csv", ("ts_ns", "market", "winning_token"),
                        _resolution)
    positions = _rows(path / "positions.csv", ("market", "token", "shares"), _position)
    return Run(
        path=str(path), info=info,
        fills=tuple(sorted(fills, key=lambda f: f.ts_ns)),
        signals=tuple(sorted(signals, key=lambda s: s.ts_ns)),
        equity=tuple(sorted(equity, key=lambda p: p.ts_ns)),
        resolutions=tuple(resolutions), positions=tuple(positions),
    )
