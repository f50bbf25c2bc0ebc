"""Telemetry files: what the engine saw, decided and did, written off its hot path.

The engine task calls :meth:`Telemetry.signal`, :meth:`~Telemetry.order`,
:meth:`~Telemetry.fill`, :meth:`~Telemetry.latency` and :meth:`~Telemetry.market_info`; each
only appends to a list. :meth:`Telemetry.run` (a writer task) or an explicit
:meth:`Telemetry.flush` formats and writes the backlog, one directory per market::

    <out_dir>/<market>/signals.csv  orders.csv  fills.csv  latency.csv  market_info.txt

Prices, sizes and money are written as exact decimals (``0.45``, not ``450000``), latencies
in microseconds with 3 decimals, timestamps as integer nanoseconds plus an ISO-8601 UTC column.
CSV files are appended to across restarts; the header is written only when a file is created.
"""

from __future__ import annotations

import asyncio
import csv
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol, TextIO

import msgspec

from prediction_engine.core.events import Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import format_micro
from prediction_engine.core.orders import OrderStatus, TimeInForce

__all__ = [
    "FillRecord",
    "LatencyRecord",
    "Liquidity",
    "OrderRecord",
    "Record",
    "SignalRecord",
    "Telemetry",
    "TelemetryFanOut",
    "TelemetrySink",
    "iso_utc",
    "market_dir_name",
]

Liquidity = Literal["taker", "maker"]


class SignalRecord(msgspec.Struct, frozen=True, gc=False):
    """A strategy's view of one token and what became of it.

    ``action`` is ``"sized"``, ``"no_size"``, ``"rejected:<REASON>"``, ``"stale"``, ...
    """

    ts_ns: int
    strategy: str
    market: ConditionId
    token: TokenId
    side: Side
    edge: float
    confidence: float
    fair_price: float
    action: str


class OrderRecord(msgspec.Struct, frozen=True, gc=False):
    """One state of one of our orders; ``price``, ``size`` and ``filled`` in micro-units."""

    ts_ns: int
    strategy: str
    client_id: str
    market: ConditionId
    token: TokenId
    side: Side
    price: int
    size: int
    time_in_force: TimeInForce
    status: OrderStatus
    filled: int
    reason: str = ""


class FillRecord(msgspec.Struct, frozen=True, gc=False):
    """One execution of one of our orders; ``price``, ``size`` and ``fee`` in micro-units."""

    ts_ns: int
    strategy: str
    client_id: str
    market: ConditionId
    token: TokenId
    side: Side
    price: int
    size: int
    fee: int
    trade_id: str
    liquidity: Liquidity


class LatencyRecord(msgspec.Struct, frozen=True, gc=False):
    """Where the time went for one frame, in nanoseconds from its receipt at ``ts_recv_ns``.

    ``decode_ns``: receipt to the event handed to the engine (parse + queue);
    ``evaluate_ns``: strategies + risk; ``end_to_end_ns``: receipt to the command handed to the
    execution client.
    """

    ts_recv_ns: int
    market: ConditionId
    token: TokenId
    decode_ns: int
    evaluate_ns: int
    end_to_end_ns: int


Record = SignalRecord | OrderRecord | FillRecord | LatencyRecord


class TelemetrySink(Protocol):
    """What the engine reports to: :class:`Telemetry` (files) or a backtest's run recorder."""

    def signal(self, record: SignalRecord) -> None:
        """A signal and what became of it."""
        ...

    def order(self, record: OrderRecord) -> None:
        """One state of one order (or a risk rejection)."""
        ...

    def fill(self, record: FillRecord) -> None:
        """One execution."""
        ...

    def latency(self, record: LatencyRecord) -> None:
        """Where the time went for one frame that led to an order."""
        ...

    def market_info(self, market: Market, extra: Mapping[str, str] | None = None) -> None:
        """A market the strategies trade became known."""
        ...

class TelemetryFanOut:
    """Hand every record to several sinks in order (files, metrics, dashboard, journal)."""

    def __init__(self, sinks: Sequence[TelemetrySink]) -> None:
        self.sinks = tuple(sinks)

    def signal(self, record: SignalRecord) -> None:
        """Pass a signal record on."""
        for sink in self.sinks:
            sink.signal(record)

    def order(self, record: OrderRecord) -> None:
        """Pass an order record on."""
        for sink in self.sinks:
            sink.order(record)

    def fill(self, record: FillRecord) -> None:
        """Pass a fill record on."""
        for sink in self.sinks:
            sink.fill(record)

    def latency(self, record: LatencyRecord) -> None:
        """Pass a latency record on."""
        for sink in self.sinks:
            sink.latency(record)

    def market_info(self, market: Market, extra: Mapping[str, str] | None = None) -> None:
        """Pass a market description on."""
        for sink in self.sinks:
            sink.market_info(market, extra)


_HEADERS: dict[str, tuple[str, ...]] = {
    "signals.csv": ("ts_ns", "time_utc", "strategy", "market", "token", "side", "edge",
                    "confidence", "fair_price", "action"),
    "orders.csv": ("ts_ns", "time_utc", "strategy", "client_id", "market", "token", "side",
                   "price", "size", "time_in_force", "status", "filled", "reason"),
    "fills.csv": ("ts_ns", "time_utc", "strategy", "client_id", "market", "token", "side",
                  "price", "size", "fee", "trade_id", "liquidity"),
    "latency.csv": ("ts_recv_ns", "time_utc", "market", "token", "decode_us", "evaluate_us",
                    "end_to_end_us"),
}

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_NAME = 100


def market_dir_name(name: str) -> str:
    """Return ``name`` as a safe directory name: ``[A-Za-z0-9._-]``, at most 100 characters.

    Other characters become ``_``; leading dots are dropped (no ``..`` or hidden directories).
    """
    safe = _UNSAFE.sub("_", name).lstrip(".")[:_MAX_NAME]
    return safe or "_"


def iso_utc(ns: int | None) -> str:
    """``ns`` since the epoch as ISO-8601 UTC with microseconds (``-`` for ``None``)."""
    if ns is None:
        return "-"
    seconds, rest = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest // 1000:06d}Z"


def _micros(ns: int) -> str:
    sign = "-" if ns < 0 else ""
    whole, frac = divmod(abs(ns), 1000)
    return f"{sign}{whole}.{frac:03d}"


def _row(record: Record) -> tuple[str, list[str]]:
    """Return the file a record goes to and its formatted CSV row."""
    match record:
        case SignalRecord():
            r = record
            return "signals.csv", [
                str(r.ts_ns), iso_utc(r.ts_ns), r.strategy, r.market, r.token, str(r.side),
                repr(r.edge), repr(r.confidence), repr(r.fair_price), r.action,
            ]
        case OrderRecord():
            o = record
            return "orders.csv", [
                str(o.ts_ns), iso_utc(o.ts_ns), o.strategy, o.client_id, o.market, o.token,
                str(o.side), format_micro(o.price), format_micro(o.size), str(o.time_in_force),
                str(o.status), format_micro(o.filled), o.reason,
            ]
        case FillRecord():
            f = record
            return "fills.csv", [
                str(f.ts_ns), iso_utc(f.ts_ns), f.strategy, f.client_id, f.market, f.token,
                str(f.side), format_micro(f.price), format_micro(f.size), format_micro(f.fee),
                f.trade_id, f.liquidity,
            ]
        case LatencyRecord():
            t = record
            return "latency.csv", [
                str(t.ts_recv_ns), iso_utc(t.ts_recv_ns), t.market, t.token, _micros(t.decode_ns),
                _micros(t.evaluate_ns), _micros(t.end_to_end_ns),
            ]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _info_text(market: Market, extra: Mapping[str, str] | None) -> str:
    """Render ``market_info.txt``: one ``key: value`` line per fact."""
    fee = market.fee_schedule

    def micro(value: int | None) -> str:
        return "-" if value is None else format_micro(value)

    lines = [
        ("question", _one_line(market.question)),
        ("slug", market.slug),
        ("condition id", market.condition_id),
        *((f"token {outcome}", token)
          for outcome, token in zip(market.outcomes, market.tokens, strict=False)),
        ("tick size", micro(market.tick_size)),
        ("min order size", micro(market.min_order_size)),
        ("neg risk", "yes" if market.neg_risk else "no"),
        ("event slug", market.event_slug or "-"),
        ("fee schedule", f"rate {fee.rate}, exponent {fee.exponent}" if fee else "none"),
        ("start", iso_utc(market.start_ns)),
        ("end", iso_utc(market.end_ns)),
        *((_one_line(key), _one_line(value)) for key, value in (extra or {}).items()),
    ]
    return "".join(f"{key}: {value}\n" for key, value in lines)


class Telemetry:
    """Buffers telemetry records in memory and writes them to per-market files on flush.

    The record methods are the engine's hot path: one ``list.append`` each, no I/O and no
    formatting. Run :meth:`run` as a task next to the engine (or call :meth:`flush`) to write.
    ``market_names`` maps a condition id to a readable directory name (e.g. the slug).
    """

    def __init__(
        self, out_dir: Path, *, market_names: Callable[[ConditionId], str] | None = None
    ) -> None:
        self.out_dir = out_dir
        self._market_names = market_names
        self._pending: list[Record] = []
        self._pending_info: list[tuple[Market, Mapping[str, str] | None]] = []
        self._dirs: dict[ConditionId, Path] = {}
        self._files: dict[Path, TextIO] = {}

    def signal(self, record: SignalRecord) -> None:
        """Buffer a signal record."""
        self._pending.append(record)

    def order(self, record: OrderRecord) -> None:
        """Buffer an order record."""
        self._pending.append(record)

    def fill(self, record: FillRecord) -> None:
        """Buffer a fill record."""
        self._pending.append(record)

    def latency(self, record: LatencyRecord) -> None:
        """Buffer a latency record."""
        self._pending.append(record)

    def market_info(self, market: Market, extra: Mapping[str, str] | None = None) -> None:
        """Buffer the description of ``market``; ``extra`` (more ``key: value`` lines, e.g.
        the strike) is kept by reference until the next flush."""
        self._pending_info.append((market, extra))

    def flush(self) -> int:
        """Write everything buffered; return how many records (rows and info files) it wrote."""
        pending, self._pending = self._pending, []
        infos, self._pending_info = self._pending_info, []
        rows: dict[Path, list[list[str]]] = {}
        for record in pending:
            name, row = _row(record)
            rows.setdefault(self._dir(record.market) / name, []).append(row)
        for path, batch in rows.items():
            handle = self._open(path)
            csv.writer(handle, lineterminator="\n").writerows(batch)
            handle.flush()
        for market, extra in infos:
            self._write_info(market, extra)
        return len(pending) + len(infos)

    async def run(self, interval_s: float = 0.5) -> None:
        """Flush every ``interval_s`` seconds until cancelled, then flush once more."""
        try:
            while True:
                await asyncio.sleep(interval_s)
                self.flush()
        finally:
            self.flush()

    def close(self) -> None:
        """Flush what is buffered and close the files (a later flush reopens them)."""
        try:
            self.flush()
        finally:
            files, self._files = self._files, {}
            for handle in files.values():
                handle.close()

    def _dir(self, market: ConditionId) -> Path:
        path = self._dirs.get(market)
        if path is None:
            name = self._market_names(market) if self._market_names else ""
            path = self.out_dir / market_dir_name(name or market)
            self._dirs[market] = path
        return path

    def _open(self, path: Path) -> TextIO:
        handle = self._files.get(path)
        if handle is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a", newline="", encoding="utf-8")
            if handle.tell() == 0:  # a new (or empty) file: a restart appends below the header
                csv.writer(handle, lineterminator="\n").writerow(_HEADERS[path.name])
            self._files[path] = handle
        return handle

    def _write_info(self, market: Market, extra: Mapping[str, str] | None) -> None:
        path = self._dir(market.condition_id) / "market_info.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".txt.tmp")  # readers never see half a file
        temporary.write_text(_info_text(market, extra), encoding="utf-8")
        temporary.replace(path)
