"""Frames from the event store, in recorded order, for the replay.

The store keeps every event with the frame it came from (``seq``) and its place in that frame
(``sub``); merging all tables by (``seq``, ``sub``) gives the events in the order the
production parsers made them, and grouping by ``seq`` gives the frames the live engine was
handed. The store is read one time window at a time (``window_ns`` of receive time), so memory
follows the window, not the whole recording.

Markets come from the ``markets`` table (what the recorder knew when it discovered them) and
join the replay at their recorded time as :class:`AddMarkets`. **No look-ahead**: everything in
that metadata that could reveal an outcome (``closed``, ``resolved``, ``winning_outcome``,
``outcome_prices``, the venue's last best bid/ask, ``archived``) is cleared; the engine learns
a resolution only from the ``market_resolved`` event, at its time.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from prediction_engine.backtest.framing import cut
from prediction_engine.backtest.runner import Frame
from prediction_engine.core.events import MarketResolved
from prediction_engine.core.ids import ConditionId
from prediction_engine.core.markets import Market
from prediction_engine.engine.messages import AddMarkets, Message
from prediction_engine.store.manifest import FileEntry, Manifest, load_manifest
from prediction_engine.store.query import read_part, resolve_root, select_files
from prediction_engine.store.schema import (
    LIFECYCLE,
    MARKETS,
    REFERENCE_PRICES,
    TABLES,
    table_to_events,
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


@dataclass
class _Part:
    ts: np.ndarray
    seq: np.ndarray
    sub: np.ndarray
    items: Sequence[Message | Market]
    markets: bool
    """Whether the items are markets (frames of their own, joining as :class:`AddMarkets`)."""


def _tape_order(seq: np.ndarray, sub: np.ndarray) -> np.ndarray:
    """The permutation sorting rows by (``seq``, ``sub``): each part is sorted already, so a
    stable sort of one combined key merges the runs (a lexsort when the key could overflow)."""
    low, width = int(seq.min()), int(sub.max()) + 1
    if int(sub.min()) < 0 or (int(seq.max()) - low + 1) * width >= 1 << 63:
        return np.lexsort((sub, seq))
    return np.argsort((seq - low) * width + sub, kind="stable")


_CHUNK = 64
"""Frames cut at a time. Small: the frames of a chunk are allocated before the engine frees
them, and more than the cyclic GC's 700 net allocations would start collections (4096 cost
6% more instructions than cutting one at a time); the call per chunk is nothing per frame."""


def _frames(
    ordered: tuple[Any, ...],
    ts: list[int],
    starts: list[int],
    ends: list[int],
    market_frames: list[int],
) -> Iterator[Sequence[Frame]]:
    """Chunks of frames, with consecutive market frames joined in between.

    Frame ``i`` is ``ordered[starts[i]:ends[i]]`` received at ``ts[i]``; ``market_frames`` are
    the (few) frames holding markets (``ordered`` mixes them with events, hence ``Any``), which
    join the engine together as one :class:`AddMarkets` before the next event frame.
    """
    pending: list[Market] = []
    pending_ts = 0
    done = 0
    for index in [*market_frames, len(starts)]:
        if index > done and pending:
            yield [(pending_ts, (AddMarkets(tuple(pending)),))]
            pending = []
        for first in range(done, index, _CHUNK):
            yield cut(ordered, ts, starts, ends, first=first, stop=min(first + _CHUNK, index))
        if index < len(starts):
            if not pending:
                pending_ts = ts[index]
            pending.extend(m for m in ordered[starts[index]:ends[index]] if isinstance(m, Market))
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
        # Chained C iterators over chunks that compiled code cut: handing out a frame runs no
        # Python code (the backtest's hot path).
        return itertools.chain.from_iterable(self._windows())

    def _windows(self) -> Iterator[Iterator[Frame]]:
        start = self.first_ns
        while start <= self.last_ns:
            end = min(start + self.window_ns, self.last_ns + 1)  # --to ends the last window
            yield self._window(start, end)
            start = end

    def _window(self, start: int, end: int) -> Iterator[Frame]:
        parts = [p for t in TABLES for p in self._read(t, start, end)]
        if not parts:
            return iter(())
        seq = np.concatenate([p.seq for p in parts])
        order = _tape_order(seq, np.concatenate([p.sub for p in parts]))
        seq = seq[order]
        items = list(itertools.chain.from_iterable(p.items for p in parts))
        ordered: tuple[Message | Market, ...] = (
            operator.itemgetter(*order.tolist())(items) if len(items) > 1 else tuple(items)
        )
        first = np.flatnonzero(np.concatenate(([True], seq[1:] != seq[:-1])))  # of each frame
        starts = first.tolist()
        ts = np.concatenate([p.ts for p in parts])[order[first]].tolist()
        markets = np.concatenate([np.full(len(p.items), p.markets) for p in parts])[order[first]]
        ends = [*starts[1:], len(ordered)]
        runs = _frames(ordered, ts, starts, ends, np.flatnonzero(markets).tolist())
        return itertools.chain.from_iterable(runs)

    def _read(self, table: str, start: int, end: int) -> list[_Part]:
        parts: list[_Part] = []
        for entry in self._files(table, start, end):
            data = read_part(self.root / entry.path, table)
            if entry.ts_recv_min < start or entry.ts_recv_max >= end:
                ts = data.column("ts_recv").to_numpy()
                keep = np.flatnonzero((ts >= start) & (ts < end))
                if len(keep) == 0:
                    continue
                if len(keep) < len(ts):
                    data = data.take(keep)
            if data.num_rows == 0:
                continue
            items: Sequence[Message | Market]
            if table == MARKETS:
                items = [hide_outcome(m) for m in table_to_markets(data)]
            else:
                items = table_to_events(table, data)
                if table == LIFECYCLE:
                    self.resolutions.extend(e for e in items if isinstance(e, MarketResolved))
            parts.append(
                _Part(
                    data.column("ts_recv").to_numpy(),
                    data.column("seq").to_numpy(),
                    data.column("sub").to_numpy(),
                    items,
                    table == MARKETS,
                )
            )
        return parts
