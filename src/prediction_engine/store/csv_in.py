"""CSV in: rows in a table's own columns become events in the store (source ``csv-<stem>``).

The header names the columns (any order). Of the common columns only ``ts_recv`` is required:
``ts_event`` defaults to ``ts_recv``, ``seq`` to the row number (the first data row is 1, as
a tape's first frame is line 1), ``sub`` to 0, ``venue`` to the ``venue`` argument. Times are
integer nanoseconds or ISO 8601 (``2026-03-12T09:20:30.5Z``; no zone means UTC). Prices and
sizes are decimals (``0.45``, converted to micro-units exactly) or, with ``micro``, integer
micro-units; ``reference_prices`` keeps exact decimals. Book levels (``bids``, ``asks``) are
JSON: ``[["0.45", "100"], ["0.44", "20"]]`` best first.

Every row is checked before anything is written: the first bad one raises :class:`CsvError`
naming the file, the line and the column.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import msgspec

from prediction_engine.core.events import (
    BookDelta,
    BookSnapshot,
    ReferencePrice,
    Side,
    TickSizeChanged,
    TopOfBook,
    Trade,
)
from prediction_engine.core.ids import Venue, parse_condition_id, parse_token_id
from prediction_engine.core.numbers import parse_micro
from prediction_engine.store.convert import ConvertStats, StoreWriter
from prediction_engine.store.schema import SCHEMAS, check_reference
from prediction_engine.store.tables import CSV_TABLES
from prediction_engine.tape import tape_index

__all__ = ["CSV_TABLES", "CsvError", "CsvRows", "convert_csv", "read_csv", "write_csv"]

_INT64: Final = 1 << 63
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class CsvError(ValueError):
    """A CSV file that cannot be stored; the message reads ``FILE:LINE: column C: what``."""


@dataclass(frozen=True)
class CsvRows:
    """The checked rows of one CSV file: ``(ts_recv, line, seq, sub, event)`` each."""

    path: Path
    table: str
    rows: list[tuple[int, int, int, int, Any]]


_Parse = Callable[[str, bool], Any]


def _int(text: str, micro: bool = False) -> int:
    value = int(text)
    if not -_INT64 <= value < _INT64:
        raise ValueError("out of the int64 range")
    return value


def _time(text: str, micro: bool = False) -> int:
    if text.lstrip("-").isdigit():
        return _int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not integer nanoseconds nor an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _amount(text: str, micro: bool) -> int:
    value = _int(text) if micro else parse_micro(text)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _decimal(text: str, micro: bool = False) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError("not a decimal number") from None


def _side(text: str, micro: bool = False) -> Side:
    try:
        return Side(text.upper())
    except ValueError:
        raise ValueError("must be BUY or SELL") from None


def _bool(text: str, micro: bool = False) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError("must be true or false")


def _venue(text: str, micro: bool = False) -> Venue:
    try:
        return Venue(text.lower())
    except ValueError:
        raise ValueError(f"unknown venue; one of {', '.join(v.value for v in Venue)}") from None


def _levels(text: str, micro: bool) -> tuple[tuple[int, int], ...]:
    try:
        pairs = msgspec.json.decode(text, type=list[tuple[str | int, str | int]])
    except msgspec.DecodeError:
        raise ValueError('must be JSON like [["0.45", "100"], ...]') from None
    return tuple((_amount(str(p), micro), _amount(str(s), micro)) for p, s in pairs)


def _str(text: str, micro: bool = False) -> str:
    return text


def _condition(text: str, micro: bool = False) -> str:
    return parse_condition_id(text)


def _token(text: str, micro: bool = False) -> str:
    return parse_token_id(text)


_COMMON: Final[dict[str, _Parse]] = {
    "ts_recv": _time, "ts_event": _time, "seq": _int, "sub": _int, "venue": _venue,
}
_MARKET: Final[dict[str, _Parse]] = {"market": _condition, "token": _token}

# column -> parser; the event's own defaults apply to optional columns left out or empty
_COLUMNS: Final[dict[str, tuple[type, dict[str, _Parse], frozenset[str]]]] = {
    "book_deltas": (BookDelta, {
        **_MARKET, "side": _side, "price": _amount, "size": _amount,
        "venue_best_bid": _amount, "venue_best_ask": _amount, "checkpoint": _bool, "hash": _str,
    }, frozenset(("market", "token", "side", "price", "size"))),
    "trades": (Trade, {
        **_MARKET, "price": _amount, "size": _amount, "aggressor": _side, "trade_id": _str,
        "fee_rate_bps": _int, "transaction_hash": _str,
    }, frozenset(("market", "token", "price", "size"))),
    "top_of_book": (TopOfBook, {**_MARKET, "best_bid": _amount, "best_ask": _amount},
                    frozenset(("market", "token"))),
    "tick_sizes": (TickSizeChanged, {
        **_MARKET, "old_tick_size": _amount, "new_tick_size": _amount,
    }, frozenset(("market", "token", "old_tick_size", "new_tick_size"))),
    "book_snapshots": (BookSnapshot, {
        **_MARKET, "bids": _levels, "asks": _levels, "tick_size": _amount,
        "min_order_size": _amount, "last_trade_price": _amount, "neg_risk": _bool, "hash": _str,
    }, frozenset(("market", "token", "bids", "asks"))),
    "reference_prices": (ReferencePrice, {
        "symbol": _str, "price": _decimal, "size": _decimal, "aggressor": _side,
        "trade_id": _str,
    }, frozenset(("symbol", "price"))),
}
assert tuple(_COLUMNS) == CSV_TABLES, "one CSV reading per table a CSV can fill"

# Fields an event requires that a CSV may leave out (empty or absent): filled with these.
_FILLED: Final[dict[str, dict[str, Any]]] = {
    "trades": {"aggressor": None, "trade_id": ""},
    "top_of_book": {"best_bid": None, "best_ask": None},
}


class _Reader:
    """Checks and converts the rows of one file."""

    def __init__(self, path: Path, table: str, micro: bool, venue: Venue | None) -> None:
        if table not in _COLUMNS:
            raise CsvError(f"{path}: table {table!r} cannot be read from CSV; one of "
                           f"{', '.join(CSV_TABLES)}")
        if venue is None and table != "reference_prices":
            venue = Venue.POLYMARKET
        self.path, self.table, self.micro, self.venue = path, table, micro, venue
        self.kind, columns, self.required = _COLUMNS[table]
        self.width = 0
        self.parsers = {**_COMMON, **columns}
        self.base = tape_index(path.stem) << 32

    def header(self, names: list[str] | None) -> None:
        if not names:
            raise CsvError(f"{self.path}:1: no header line")
        unknown = [n for n in names if n not in self.parsers]
        if unknown:
            known = ", ".join(SCHEMAS[self.table].names)
            raise CsvError(f"{self.path}:1: column {unknown[0]}: not a column of {self.table} "
                           f"({known})")
        missing = sorted(({"ts_recv"} | self.required) - set(names))
        if missing:
            raise CsvError(f"{self.path}:1: column {missing[0]}: missing (required)")
        if "venue" not in names and self.venue is None:
            raise CsvError(f"{self.path}:1: column venue: missing; add it or pass a venue")
        self.width = len(names)

    def row(self, record: dict[str, str | None], line: int, number: int) -> tuple[Any, ...]:
        values: dict[str, Any] = {}
        for name, text in record.items():
            if name is None or text is None:
                raise CsvError(f"{self.path}:{line}: expected {self.width} fields like the "
                               "header, got a different count")
            if text == "":
                if name in self.required or name == "ts_recv":
                    raise CsvError(f"{self.path}:{line}: column {name}: empty (required)")
                continue
            try:
                values[name] = self.parsers[name](text.strip(), self.micro)
            except ValueError as e:
                shown = "" if repr(text[:40]) in str(e) else f" ({text[:40]!r})"
                raise CsvError(f"{self.path}:{line}: column {name}: {e}{shown}") from e
        return self._event(values, line, number)

    def _event(self, values: dict[str, Any], line: int, number: int) -> tuple[Any, ...]:
        seq = values.pop("seq", self.base | number)
        sub = values.pop("sub", 0)
        values.setdefault("ts_event", values["ts_recv"])
        values.setdefault("venue", self.venue)
        if values["venue"] is None:
            raise CsvError(f"{self.path}:{line}: column venue: empty, and no venue given")
        for name, default in _FILLED.get(self.table, {}).items():
            values.setdefault(name, default)
        event = self.kind(**values)
        if isinstance(event, ReferencePrice):
            try:
                check_reference(event)
            except ValueError as e:
                raise CsvError(f"{self.path}:{line}: column price: {e}") from e
        return (values["ts_recv"], number, seq, sub, event)


def read_csv(
    path: Path, table: str, *, micro: bool = False, venue: Venue | None = None
) -> CsvRows:
    """Read and check every row of ``path`` as ``table``; raise :class:`CsvError` at the first
    bad one. ``venue`` applies to rows without one (default: Polymarket, except for
    ``reference_prices``, whose rows must say)."""
    reader = _Reader(path, table, micro, venue)
    rows = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            records = csv.DictReader(file)
            reader.header(list(records.fieldnames or []))
            for number, record in enumerate(records, 1):
                rows.append(reader.row(record, records.line_num, number))
    except OSError as e:
        raise CsvError(f"{path}: cannot read: {e.strerror}") from e
    except (UnicodeDecodeError, csv.Error) as e:
        raise CsvError(f"{path}: not a readable CSV file ({e})") from e
    rows.sort(key=lambda row: (row[0], row[2], row[3]))  # by time, so buckets cut exactly
    return CsvRows(path, table, rows)


def write_csv(rows: CsvRows, root: Path, *, bucket_s: int = 3600) -> ConvertStats:
    """Write checked rows into the store at ``root`` as source ``csv-<stem>``."""
    writer = StoreWriter(root, bucket_s=bucket_s)
    writer.begin_tape(rows.path, source=f"csv-{rows.path.stem}")
    for ts_recv, line, seq, sub, event in rows.rows:
        writer.add_events(ts_recv, line, [event], seq=seq, sub=sub)
    return writer.end_tape()


def convert_csv(
    path: Path,
    root: Path,
    table: str,
    *,
    micro: bool = False,
    venue: Venue | None = None,
    bucket_s: int = 3600,
) -> ConvertStats:
    """Check every row of a CSV file, then write it into the store (nothing on a bad row)."""
    return write_csv(read_csv(path, table, micro=micro, venue=venue), root, bucket_s=bucket_s)
