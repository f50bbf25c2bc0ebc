"""Frames from the event store, in recorded order, for the replay.

The store keeps every event with the frame it came from (``seq``) and its place in that frame
(``sub``); merging all tables by (``seq``, ``sub``) gives the events in the order the
production parsers made them, and grouping by ``seq`` gives the frames the live engine was
handed. The store is read one time window at a time (``window_ns`` of receive time), so memory
follows the window, not the whole recording, and each window's events are built a block of
rows at a time, just before the engine consumes them. The venue's book hashes and trades'
transaction hashes are not read (see :data:`~prediction_engine.store.reader.REPLAY_OMITS`).

Markets come from the ``markets`` table (what the recorder knew when it discovered them) and
join the replay at their recorded time as :class:`AddMarkets`. **No look-ahead**: everything in
that metadata that could reveal an outcome (``closed``, ``resolved``, ``winning_outcome``,
``outcome_prices``, the venue's last best bid/ask, ``archived``) is cleared; the engine learns
a resolution only from the ``market_resolved`` event, at its time.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa

from prediction_engine.backtest.runner import Frame
from prediction_engine.core.events import MarketResolved
from prediction_engine.core.ids import ConditionId
from prediction_engine.core.markets import Market
from prediction_engine.engine.messages import AddMarkets
from prediction_engine.store.assemble import Assembler, Table
from prediction_engine.store.manifest import FileEntry, Manifest, load_manifest
from prediction_engine.store.query import read_part, resolve_root, select_files
from prediction_engine.store.reader import OBJECTS, REPLAY_OMITS, TableReader, numbers
from prediction_engine.store.schema import (
    LIFECYCLE,
    MARKETS,
    REFERENCE_PRICES,
    TABLES,
    table_to_markets,
)

__all__ = ["ReplaySource", "SourceError", "hide_outcome"]

_HOUR_NS = 3600 * 1_000_000_000


class SourceError(ValueError):
    """The data cannot be replayed as asked (no store, nothing in range, unknown market)."""


def hide_outcome(market: Market) -> Market:
    """``market`` without anything that could tell how it ends (see the module docstring)."""
    return msgspec.structs.replace(
        market,
        closed=False,
        archived=False,
        resolved=False,
        winning_outcome=None,
        outcome_prices=(),
        best_bid=None,
        best_ask=None,
    )


def _tape_order(seq: np.ndarray, sub: np.ndarray) -> np.ndarray:
    """The permutation sorting rows by (``seq``, ``sub``): each part is sorted already, so a
    stable sort of one combined key merges the runs (a lexsort when the key could overflow)."""
    low, width = int(seq.min()), int(sub.max()) + 1
    if int(sub.min()) < 0 or (int(seq.max()) - low + 1) * width >= 1 << 63:
        return np.lexsort((sub, seq))
    return np.argsort((seq - low) * width + sub, kind="stable")


_MAX_PARTS = 32_767
"""Parts in one window (the assembler numbers them with 16 bits)."""

_CHUNK = 64
"""Frames assembled at a time. Small: the frames of a chunk are allocated before the engine
frees them, and more than the cyclic GC's 700 net allocations would start collections."""


class _Window:
    """One window of the store in tape order: which part each row comes from, the frames
    (rows sharing a ``seq``), and each part's columns, assembled into frames chunk by chunk.

    Every part (one table of one market) is a table of its own for the assembler: its columns
    are read where Parquet decoded them, never concatenated.
    """

    def __init__(self, parts: list[tuple[str, pa.Table]]) -> None:
        if len(parts) > _MAX_PARTS:
            raise SourceError(f"{len(parts)} parts in one replay window (at most {_MAX_PARTS}):"
                              " replay fewer markets or a shorter window")
        sizes = [table.num_rows for _, table in parts]
        offsets = np.cumsum([0, *sizes])
        seq = np.concatenate([numbers(t.column("seq")) for _, t in parts])
        order = _tape_order(seq, np.concatenate([numbers(t.column("sub")) for _, t in parts]))
        kinds = np.repeat(np.arange(len(parts), dtype=np.int16), sizes)[order]
        seq = seq[order]
        new_frame = np.empty(len(seq), dtype=bool)
        new_frame[0] = True
        np.not_equal(seq[1:], seq[:-1], out=new_frame[1:])
        starts = np.flatnonzero(new_frame)
        self.bounds = np.append(starts, len(seq)).astype(np.int64)
        ts = np.concatenate([numbers(t.column("ts_recv")) for _, t in parts])[order]
        self.frame_ts = ts[starts].astype(np.int64)
        frame_of = np.cumsum(new_frame) - 1
        # Whether each row was received with its frame (always, from the recorder): then its
        # event takes the frame's receive-time object.
        with_frame = ts == self.frame_ts[frame_of]
        # Each part's rows in tape order, all parts at once (a stable sort of the kinds).
        by_part = np.argsort(kinds, kind="stable")
        part_rows = order[by_part] - np.repeat(offsets[:-1], sizes)
        market_rows: list[tuple[np.ndarray, list[Market]]] = []
        self.resolutions: list[MarketResolved] = []
        specs: list[Table] = []
        for kind, (name, table) in enumerate(parts):
            mine = slice(offsets[kind], offsets[kind + 1])
            rows = part_rows[mine]
            if name == MARKETS:  # joined in Python (chunks), never assembled
                markets = [hide_outcome(m) for m in table_to_markets(table)]
                specs.append((None, rows, ((OBJECTS, markets),)))
                market_rows.append((by_part[mine], [markets[row] for row in rows.tolist()]))
                continue
            own = bool(with_frame[by_part[mine]].all())
            reader = TableReader(name, table, omit=REPLAY_OMITS, frame_recv=own)
            specs.append((reader.kind, rows, tuple(reader.columns)))
            if name == LIFECYCLE:
                self.resolutions += [e for e in reader.events() if isinstance(e, MarketResolved)]
        self._markets(market_rows, frame_of)
        self._assembler = Assembler(kinds, self.bounds, self.frame_ts, specs)

    def _markets(self, parts: list[tuple[np.ndarray, list[Market]]], frame_of: np.ndarray) -> None:
        """The market records in tape order, and the frames holding them (only them)."""
        self.markets: list[Market] = []
        self.market_frames: list[int] = []
        if not parts:
            return
        positions = np.concatenate([p for p, _ in parts])
        records = [m for _, markets in parts for m in markets]
        in_order = np.argsort(positions, kind="stable")
        self.markets = [records[i] for i in in_order.tolist()]
        frames, counts = np.unique(frame_of[positions], return_counts=True)
        if (counts != np.diff(self.bounds)[frames]).any():
            raise SourceError("a frame of the store mixes market records and events")
        self.market_frames = frames.tolist()

    def chunks(self) -> Iterator[Sequence[Frame]]:
        """The window's frames, a chunk at a time, with consecutive market frames joined into
        one :class:`AddMarkets` before the next event frame."""
        frames = len(self.frame_ts)
        pending: list[Market] = []
        pending_ts = 0
        done = taken = 0
        bounds = self.bounds.tolist()
        for index in [*self.market_frames, frames]:
            if index > done and pending:
                yield [(pending_ts, (AddMarkets(tuple(pending)),))]
                pending = []
            for chunk in range(done, index, _CHUNK):
                yield self._assembler.frames(chunk, min(chunk + _CHUNK, index))
            if index < frames:
                if not pending:
                    pending_ts = int(self.frame_ts[index])
                count = bounds[index + 1] - bounds[index]
                pending.extend(self.markets[taken:taken + count])
                taken += count
            done = index + 1
        if pending:
            yield [(pending_ts, (AddMarkets(tuple(pending)),))]


class ReplaySource:
    """The frames of a store between ``from_ns`` (inclusive) and ``to_ns`` (exclusive).

    ``markets``: condition ids or slugs to replay (every market when ``None``); reference
    prices are always replayed. Raises :class:`SourceError` for a missing store or an unknown
    market.
    """

    def __init__(
        self,
        root: Path,
        *,
        markets: Collection[str] | None = None,
        from_ns: int | None = None,
        to_ns: int | None = None,
        window_ns: int = _HOUR_NS,
    ) -> None:
        try:
            self.root = resolve_root(root)
            self._manifest: Manifest = load_manifest(self.root)
        except (OSError, ValueError) as e:
            raise SourceError(str(e)) from e
        if window_ns <= 0:
            raise SourceError("the replay window must be positive")
        self.from_ns, self.to_ns, self.window_ns = from_ns, to_ns, window_ns
        self.markets: dict[ConditionId, Market] = {}
        for entry in select_files(self._manifest, MARKETS, from_ns=None, to_ns=to_ns):
            for market in table_to_markets(read_part(self.root / entry.path, MARKETS)):
                self.markets.setdefault(market.condition_id, market)
        self._wanted = None if markets is None else self._resolve(markets)
        if self._wanted is not None:
            self.markets = {k: v for k, v in self.markets.items() if k in self._wanted}
        self.resolutions: list[MarketResolved] = []
        files = [f for t in TABLES for f in self._files(t)]
        if not files:
            raise SourceError(f"{self.root}: no data in the chosen range and markets")
        self.first_ns = max(min(f.ts_recv_min for f in files), from_ns or 0)
        last = max(f.ts_recv_max for f in files)
        self.last_ns = last if to_ns is None else min(last, to_ns - 1)

    def _resolve(self, names: Collection[str]) -> set[str]:
        by_slug = {m.slug: m.condition_id for m in self.markets.values()}
        wanted: set[str] = set()
        for name in names:
            if name in self.markets:
                wanted.add(name)
            elif name in by_slug:
                wanted.add(by_slug[name])
            else:
                raise SourceError(f"no market {name!r} in {self.root} (see `pengine data list`)")
        return wanted

    def _files(
        self, table: str, from_ns: int | None = None, to_ns: int | None = None
    ) -> list[FileEntry]:
        markets = None if table == REFERENCE_PRICES else self._wanted
        low = self.from_ns if from_ns is None else max(from_ns, self.from_ns or from_ns)
        high = self.to_ns if to_ns is None else min(to_ns, self.to_ns or to_ns)
        return select_files(self._manifest, table, markets=markets, from_ns=low, to_ns=high)

    # -- frames ------------------------------------------------------------------------------

    def frames(self) -> Iterator[Frame]:
        """Every frame in recorded order, one window at a time."""
        # Chained C iterators over chunks that compiled code assembled: handing out a frame
        # runs no Python code (the backtest's hot path).
        return itertools.chain.from_iterable(itertools.chain.from_iterable(self._windows()))

    def _windows(self) -> Iterator[Iterator[Sequence[Frame]]]:
        start = self.first_ns
        while start <= self.last_ns:
            end = min(start + self.window_ns, self.last_ns + 1)  # --to ends the last window
            yield self._window(start, end)
            start = end

    def _window(self, start: int, end: int) -> Iterator[Sequence[Frame]]:
        parts = [(t, data) for t in TABLES for data in self._read(t, start, end)]
        if not parts:
            return
        window = _Window(parts)
        self.resolutions.extend(window.resolutions)
        yield from window.chunks()

    def _read(self, table: str, start: int, end: int) -> list[pa.Table]:
        """The parts of ``table`` with their rows received in [``start``, ``end``)."""
        parts: list[pa.Table] = []
        for entry in self._files(table, start, end):
            data = read_part(self.root / entry.path, table, REPLAY_OMITS)
            if entry.ts_recv_min < start or entry.ts_recv_max >= end:
                ts = numbers(data.column("ts_recv"))
                keep = np.flatnonzero((ts >= start) & (ts < end))
                if len(keep) < len(ts):
                    data = data.take(keep)
            if data.num_rows:
                parts.append(data)
        return parts
