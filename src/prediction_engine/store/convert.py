"""Tapes to Parquet: parse frames with the production parsers, write partitioned parts.

:class:`StoreWriter` is fed one frame at a time, by the live recorder or by
:func:`convert_tape`, and cuts parts only where the frames say so (a frame whose receive time
opens a later bucket, and the end of a tape), so converting live and converting later give
byte-identical files. A part is written to a temp file and renamed into place, then the
manifest is rewritten (atomically too): a crash never leaves a half file, and converting the
tape again rewrites the same files.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from prediction_engine.core.events import ReferencePrice
from prediction_engine.core.markets import Market
from prediction_engine.store.manifest import (
    FileEntry,
    Manifest,
    TapeEntry,
    load_manifest,
    save_manifest,
)
from prediction_engine.store.schema import (
    DELTA_ENCODED,
    DICTIONARY_ENCODED,
    REFERENCE_PRICES,
    SCHEMA_VERSION,
    TABLE_OF,
    MarketRecord,
    Row,
    check_reference,
    events_to_table,
)
from prediction_engine.tape import (
    BINANCE_TRADE,
    PENGINE_MARKET,
    POLYMARKET_MARKET,
    RTDS_CRYPTO,
    NumberedTape,
    tape_index,
    tape_source,
)
from prediction_engine.venues.binance.parse import parse as parse_binance
from prediction_engine.venues.polymarket.parse import PolymarketParser
from prediction_engine.venues.polymarket.rtds_parse import parse_rtds_frame

__all__ = ["ConvertStats", "StoreWriter", "check_bucket", "convert_tape"]

MAX_ERRORS_KEPT: Final = 5
_NS: Final = 1_000_000_000
_PROGRESS_EVERY: Final = 2048
_market_decoder = msgspec.json.Decoder(Market)
_by_seq = itemgetter(0, 1)


@dataclass
class ConvertStats:
    """What converting one source did."""

    source: str = ""
    frames: int = 0
    events: dict[str, int] = field(default_factory=dict)
    """Rows written per table."""
    files: int = 0
    errors: int = 0
    """Frames (or lines, or rows) that could not be parsed or stored: counted, skipped."""
    first_errors: list[str] = field(default_factory=list)
    unknown_channels: dict[str, int] = field(default_factory=dict)
    """Frames of channels the store does not know, by channel (skipped)."""
    not_stored: int = 0
    """Events of kinds the store does not keep (our own orders and trades)."""
    truncated: bool = False
    """The tape ended mid-line (a crash); every complete line was converted."""

    @property
    def rows(self) -> int:
        """Rows written over all tables."""
        return sum(self.events.values())

    def error(self, message: str) -> None:
        """Count an error, keeping the first few messages."""
        self.errors += 1
        if len(self.first_errors) < MAX_ERRORS_KEPT:
            self.first_errors.append(message)


def check_bucket(bucket_s: int) -> None:
    """Raise ``ValueError`` unless ``bucket_s`` is whole minutes dividing a day."""
    if bucket_s < 60 or bucket_s % 60 or 86_400 % bucket_s:
        raise ValueError(
            f"bucket must be whole minutes dividing a day (60..86400 s), got {bucket_s}"
        )


def _partition(item: Any) -> tuple[str, str, str]:
    """``(table, venue, key)`` of an item; ``KeyError`` for a kind the store does not keep.

    ``venue`` is the ``Venue`` member itself (a ``str``; ``.value`` costs a descriptor call
    per event), made a plain string once per part.
    """
    table = TABLE_OF[type(item)]
    if table == REFERENCE_PRICES:
        return table, item.venue, item.symbol.lower()
    if isinstance(item, MarketRecord):
        return table, item.market.venue, item.market.condition_id
    return table, item.venue, item.market


@dataclass
class _Source:
    name: str
    base: int
    """``tape_index << 32``: the high half of every seq of this source."""
    entry: TapeEntry
    stats: ConvertStats
    last_line: int = -1


class StoreWriter:
    """Feed frames in tape order; finished buckets are written as they close.

    Call :meth:`begin_tape`, then :meth:`add` for every frame of the tape in order (also the
    ones that will not parse), then :meth:`end_tape`. ``begin_tape`` drops what the store held
    from a source of the same name: a tape is always converted from its first line.
    """

    def __init__(self, root: Path, *, bucket_s: int = 3600) -> None:
        check_bucket(bucket_s)
        self.root = root
        self.bucket_ns = bucket_s * _NS
        self.manifest: Manifest = load_manifest(root)
        self._parser = PolymarketParser()
        self._source: _Source | None = None
        self._open: int | None = None
        self._buffers: dict[tuple[str, str, str], list[Row]] = {}
        self._unordered = False

    # -- sources -------------------------------------------------------------------------------

    def begin_tape(self, tape: Path, *, source: str | None = None) -> None:
        """Start a source (``source`` defaults to the tape's stem); its seqs use its index."""
        if self._source is not None:
            raise RuntimeError(f"end_tape() the source {self._source.name!r} first")
        name = source or tape_source(tape)
        self._forget(name)
        entry = TapeEntry(path=_tape_path(tape, self.root), source=name)
        self.manifest.tapes.append(entry)
        self._source = _Source(name, tape_index(name) << 32, entry, ConvertStats(source=name))
        self._open = None
        save_manifest(self.root, self.manifest)

    def end_tape(self) -> ConvertStats:
        """Write every buffered row, mark the source complete, return what it did."""
        source = self._current()
        self._flush()
        source.entry.complete = True
        save_manifest(self.root, self.manifest)
        self._source = None
        return source.stats

    def _forget(self, name: str) -> None:
        manifest = self.manifest
        for entry in manifest.files:
            if entry.source == name:
                (self.root / entry.path).unlink(missing_ok=True)
        manifest.files = [entry for entry in manifest.files if entry.source != name]
        manifest.tapes = [tape for tape in manifest.tapes if tape.source != name]

    def _current(self) -> _Source:
        if self._source is None:
            raise RuntimeError("begin_tape() first")
        return self._source

    # -- frames --------------------------------------------------------------------------------

    def add(self, recv_ns: int, channel: str, raw: str | bytes, line: int) -> None:
        """Parse one frame (line ``line`` of the tape: the header is line 0) and buffer its
        events; finished buckets are written first. A frame that does not parse is counted in
        the stats, never raised."""
        source = self._current()
        self._advance(source, recv_ns, line)
        if line <= source.last_line:
            self._unordered = True  # not in tape order: sort the parts before writing
        source.last_line = line
        try:
            items = self._parse(channel, raw, recv_ns)
        except ValueError as e:  # DecodeError, msgspec errors, values that do not fit
            source.stats.error(f"line {line + 1} ({channel}): {e}")  # as editors count
            return
        if items is None:
            unknown = source.stats.unknown_channels
            unknown[channel] = unknown.get(channel, 0) + 1
            return
        self._buffer(source.base | line, 0, items)

    def add_events(
        self, recv_ns: int, line: int, items: list[Any], *, seq: int | None = None, sub: int = 0
    ) -> None:
        """Buffer events parsed elsewhere (a CSV row) as the frame at ``line``.

        ``seq`` defaults to the source's index and ``line``; subs count from ``sub``.
        """
        source = self._current()
        self._advance(source, recv_ns, line)
        for item in items:
            if isinstance(item, ReferencePrice):
                check_reference(item)
        self._unordered = True  # CSV rows come sorted by time, not necessarily by seq
        self._buffer(source.base | line if seq is None else seq, sub, items)

    def _buffer(self, seq: int, sub: int, items: list[Any]) -> None:
        buffers = self._buffers
        for index, item in enumerate(items, sub):
            try:
                key = _partition(item)
            except KeyError:
                self._current().stats.not_stored += 1
                continue
            rows = buffers.get(key)
            if rows is None:
                rows = buffers[key] = []
            rows.append((seq, index, item))

    def _advance(self, source: _Source, recv_ns: int, line: int) -> None:
        """Track the source's extent; cut the parts when ``recv_ns`` opens a later bucket.

        A frame received before the open bucket (the clock stepped back) joins the open one.
        """
        entry = source.entry
        entry.frames += 1
        source.stats.frames += 1
        entry.lines = max(entry.lines, line + 1)
        entry.first_ns = recv_ns if entry.first_ns is None else min(entry.first_ns, recv_ns)
        entry.last_ns = recv_ns if entry.last_ns is None else max(entry.last_ns, recv_ns)
        bucket = recv_ns // self.bucket_ns
        if self._open is None:
            self._open = bucket
        elif bucket > self._open:
            self._flush()
            self._open = bucket

    def _parse(self, channel: str, raw: str | bytes, recv_ns: int) -> list[Any] | None:
        if channel == POLYMARKET_MARKET:
            return self._parser.market_frame(raw, recv_ns)
        if channel == BINANCE_TRADE:
            return _checked(parse_binance(raw, recv_ns))
        if channel == RTDS_CRYPTO:
            return _checked(parse_rtds_frame(raw, recv_ns))
        if channel == PENGINE_MARKET:
            text = raw if isinstance(raw, str) else bytes(raw).decode()
            return [MarketRecord(recv_ns, _market_decoder.decode(text), text)]
        return None

    # -- parts ---------------------------------------------------------------------------------

    def _flush(self) -> None:
        if not self._buffers:
            return
        source = self._current()
        assert self._open is not None  # rows are buffered only after a frame opened a bucket
        start_s = self._open * self.bucket_ns // _NS
        date = time.strftime("%Y-%m-%d", time.gmtime(start_s))
        name = f"part-{source.name}-{time.strftime('%H%M', time.gmtime(start_s))}.parquet"
        written: dict[str, FileEntry] = {}
        for (table, venue_member, key), rows in sorted(self._buffers.items(), key=itemgetter(0)):
            venue = str(venue_member)
            if self._unordered:  # tape frames arrive in (seq, sub) order already
                rows.sort(key=_by_seq)
            built = self._table(table, rows, source.stats)
            if built is None:
                continue
            rel = (f"v{SCHEMA_VERSION}/{table}/venue={venue}/date={date}/"
                   f"market={quote(key, safe='') or '_'}/{name}")
            _write_part(self.root / rel, built)
            written[rel] = _file_entry(rel, (table, venue, date, key, source.name), built)
            source.stats.files += 1
            source.stats.events[table] = source.stats.events.get(table, 0) + len(rows)
        self._buffers.clear()
        self._unordered = False
        kept = [entry for entry in self.manifest.files if entry.path not in written]
        self.manifest.files = kept + list(written.values())
        save_manifest(self.root, self.manifest)

    @staticmethod
    def _table(table: str, rows: list[Row], stats: ConvertStats) -> pa.Table | None:
        """The part's table; rows whose values do not fit their columns are dropped, counted."""
        try:
            return events_to_table(table, rows)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
        kept: list[Row] = []
        for row in rows:
            try:
                events_to_table(table, [row])
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as e:
                stats.error(f"seq {row[0]} sub {row[1]} ({table}): {e}")
            else:
                kept.append(row)
        rows[:] = kept
        return events_to_table(table, kept) if kept else None


def _checked(events: list[Any]) -> list[Any]:
    for event in events:
        if isinstance(event, ReferencePrice):
            check_reference(event)
    return events


def _write_part(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    names = set(table.column_names)
    pq.write_table(
        table, temp, compression="zstd",
        use_dictionary=[c for c in DICTIONARY_ENCODED if c in names],
        column_encoding={c: "DELTA_BINARY_PACKED" for c in DELTA_ENCODED if c in names},
    )
    os.replace(temp, path)


def _file_entry(path: str, partition: tuple[str, str, str, str, str], part: pa.Table) -> FileEntry:
    table, venue, date, key, source = partition
    times = pc.min_max(part.column("ts_recv"))
    seqs = part.column("seq")
    return FileEntry(
        path=path, table=table, venue=venue, date=date, market=key, rows=part.num_rows,
        ts_recv_min=times["min"].as_py(), ts_recv_max=times["max"].as_py(),
        seq_min=seqs[0].as_py(), seq_max=seqs[-1].as_py(), source=source,
    )


def _tape_path(tape: Path, root: Path) -> str:
    """Relative to the store when the tape sits beside it (a recorder dir), else absolute."""
    tape_abs, root_abs = tape.resolve(), root.resolve()
    if tape_abs.is_relative_to(root_abs.parent):
        return Path(os.path.relpath(tape_abs, root_abs)).as_posix()
    return tape_abs.as_posix()


def convert_tape(
    tape: Path,
    root: Path,
    *,
    bucket_s: int = 3600,
    on_progress: Callable[[int], None] | None = None,
) -> ConvertStats:
    """Convert a tape (or a plain capture) into the store at ``root``.

    ``on_progress`` gets the bytes of the tape file read so far (compressed bytes for a
    ``.gz``), every few thousand frames and at the end. Raises ``TapeError`` for a file that
    is not a tape, :class:`StoreError` for a store that cannot be used.
    """
    writer = StoreWriter(root, bucket_s=bucket_s)
    reader = NumberedTape(tape)
    records = iter(reader)
    first = next(records, None)  # an unreadable file fails here, before the store changes
    writer.begin_tape(tape)
    for count, (line, record) in enumerate(itertools.chain([first] if first else [], records), 1):
        writer.add(record.t, record.ch, record.raw, line)
        if on_progress is not None and count % _PROGRESS_EVERY == 0:
            on_progress(reader.bytes_read)
    stats = writer.end_tape()
    for message in reader.bad_lines:
        stats.error(message)
    stats.truncated = reader.truncated
    if on_progress is not None:
        on_progress(tape.stat().st_size)
    return stats

