"""The recorder: every raw frame to a rotating gzip tape and, live, to the Parquet event store.

:class:`Recorder` is what a venue session's raw-frame hooks call (:meth:`Recorder.hooks`),
for ``pengine record`` and for any trading session that records itself. Per frame it does
the least it can: one rotation check, one tape line, one entry in a batch for the store,
which a worker thread writes (so Parquet parts never stall the event loop).

Rules that make a recording survive crashes without loss or duplicates:

- every start opens a new segment (never appends to a tape a crash may have cut short); a
  segment also ends at ``rotate_bytes`` of compressed data and at each UTC day change;
- the tape is sync-flushed about every ``flush_s`` (a crash loses at most that much), and
  always before the store sees a frame of a new bucket, so every Parquet part written live
  covers frames the tape already holds;
- at start, every segment the store's manifest does not list as complete is converted again
  (the store replaces a source's parts, so nothing is counted twice);
- each segment starts with a ``pengine.market`` frame for every market being recorded, so a
  segment (a day, say) can be converted and replayed on its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import msgspec

from prediction_engine.core.markets import Market
from prediction_engine.engine.clock import Clock
from prediction_engine.record.segments import (
    DAY_NS,
    TapeSegment,
    next_tape_index,
    segment_path,
)
from prediction_engine.tape import BINANCE_TRADE, PENGINE_MARKET, POLYMARKET_MARKET, RTDS_CRYPTO
from prediction_engine.trading.runtime import RawHooks
from prediction_engine.venues.feed import Frame, RawFrameHook

if TYPE_CHECKING:
    from prediction_engine.record.store_thread import StoreThread

__all__ = ["DEFAULT_ROTATE_BYTES", "Recorder", "RecorderStats"]

log = logging.getLogger(__name__)

DEFAULT_ROTATE_BYTES: Final = 256 * 1024 * 1024
_MARKET_JSON: Final = msgspec.json.encode(PENGINE_MARKET)
_encode = msgspec.json.encode


@dataclass
class RecorderStats:
    """What the recorder has written in this run (plain data for displays and summaries)."""

    frames: int = 0
    market_frames: int = 0
    segments: int = 0
    tape: str = ""
    """The segment being written (or the last one, once closed)."""
    tape_bytes: int = 0
    """Compressed bytes of every segment of this run."""
    parquet_files: int = 0
    """Parquet parts written by segments that ended (a part is written once per bucket)."""
    parquet_rows: int = 0
    store_parts: int = 0
    """Parquet parts the store holds (every run), counted as they are written."""
    markets: int = 0
    recovered: list[str] = field(default_factory=list)
    """Segments of an earlier run converted at start (that run did not finish them)."""
    tapes: list[str] = field(default_factory=list)


class Recorder:
    """Write raw frames to ``out/tapes`` and normalized events to ``out/store``.

    ``clock`` gives the time of frames the recorder writes itself (``pengine.market``) and of
    a segment's header; frames from venue sessions carry their own receive time, which also
    decides the day a segment belongs to. Call :meth:`close` when the sessions have stopped.
    """

    def __init__(
        self,
        out: Path,
        *,
        clock: Clock,
        rotate_bytes: int = DEFAULT_ROTATE_BYTES,
        parquet: bool = True,
        bucket_s: int = 3600,
        flush_s: float = 1.0,
        source: str = "pengine record",
        on_recover: Callable[[Path], None] | None = None,
    ) -> None:
        if rotate_bytes < 1 or flush_s <= 0:
            raise ValueError("rotate_bytes and flush_s must be positive")
        self.out = out
        self.tapes_dir = out / "tapes"
        self.store_root = out / "store"
        self.stats = RecorderStats()
        self._clock = clock
        self._rotate_bytes = rotate_bytes
        self._bucket_ns = bucket_s * 1_000_000_000
        self._bucket = -1
        self._flush_s = flush_s
        self._source = source
        self._markets: dict[str, Market] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._failure: BaseException | None = None
        self._closed_bytes = 0
        self._store: StoreThread | None = None
        if parquet:  # imported here: pyarrow is only loaded when the store is written
            from prediction_engine.record.recovery import recover_tapes
            from prediction_engine.record.store_thread import StoreThread
            from prediction_engine.store.convert import check_bucket

            check_bucket(bucket_s)
            recovered = recover_tapes(self.tapes_dir, self.store_root, bucket_s, on_recover)
            self.stats.recovered = [str(p) for p in recovered]
            self._store = StoreThread(self.store_root, bucket_s=bucket_s)
        self._next_index = next_tape_index(self.tapes_dir)
        self._segment = self._open(clock.now_ns())

    # -- public ----------------------------------------------------------------------------

    def hooks(self) -> RawHooks:
        """Raw-frame hooks for the Polymarket market, Binance and RTDS sessions."""
        return RawHooks(
            market=self.hook(POLYMARKET_MARKET),
            binance=self.hook(BINANCE_TRADE),
            rtds=self.hook(RTDS_CRYPTO),
        )

    def hook(self, channel: str) -> RawFrameHook:
        """A raw-frame hook recording every frame it is given on ``channel``."""
        channel_json = _encode(channel)
        write = self._write

        def on_raw(source: str, frame: Frame, recv_ns: int) -> None:
            write(recv_ns, channel, channel_json, frame)

        return on_raw

    @property
    def markets(self) -> list[Market]:
        """The markets being recorded (their metadata starts every segment)."""
        return list(self._markets.values())

    def market(self, condition_id: str) -> Market | None:
        """The recorded market with this condition id, if it is being recorded."""
        return self._markets.get(condition_id)

    def add_markets(self, markets: Iterable[Market]) -> list[Market]:
        """Write a ``pengine.market`` frame for each market not yet recorded; return those.

        Call it before subscribing their books, so the metadata precedes the first frame.
        """
        fresh = [m for m in dict.fromkeys(markets) if m.condition_id not in self._markets]
        now_ns = self._clock.now_ns()
        for market in fresh:
            self._markets[market.condition_id] = market
            self._write(now_ns, PENGINE_MARKET, _MARKET_JSON, _encode(market).decode())
            self.stats.market_frames += 1
        self.stats.markets = len(self._markets)
        return fresh

    def remove_markets(self, condition_ids: Iterable[str]) -> None:
        """Stop carrying these markets into new segments (they resolved or closed)."""
        for condition_id in condition_ids:
            self._markets.pop(condition_id, None)
        self.stats.markets = len(self._markets)

    def check(self) -> None:
        """Raise what a background flush or the store's thread failed with (a full disk, say);
        call it now and then."""
        if self._failure is not None:
            raise self._failure
        if self._store is not None:
            self._store.check()

    def flush(self) -> None:
        """Make every frame so far readable from the tape and wait until the store has it."""
        self._segment.flush()
        if self._store is not None:
            self._store.wait()
        self.check()

    def snapshot(self) -> RecorderStats:
        """The current stats (the segment's size included)."""
        segment = self._segment
        if not segment.closed:
            self.stats.tape_bytes = self._closed_bytes + segment.compressed_bytes
        if self._store is not None:
            store = self._store
            self.stats.parquet_files, self.stats.parquet_rows = store.files, store.rows
            self.stats.store_parts = store.parts
        return self.stats

    def close(self) -> RecorderStats:
        """Finish the segment (gzip trailer, last Parquet parts, manifest); return the stats."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            if not self._segment.closed:
                self._close_segment()
        finally:
            if self._store is not None:
                self._store.close()
        self.check()
        return self.snapshot()

    # -- frames ----------------------------------------------------------------------------

    def _write(self, recv_ns: int, channel: str, channel_json: bytes, frame: Frame) -> None:
        segment = self._segment
        if recv_ns // DAY_NS != segment.day or (
            segment.compressed_bytes >= self._rotate_bytes and segment.frames > segment.opening
        ):
            segment = self._rotate(recv_ns)
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        self._append(segment, recv_ns, channel, channel_json, text)
        self.stats.frames += 1
        if self._timer is None:
            self._arm_flush()

    def _append(
        self, segment: TapeSegment, recv_ns: int, channel: str, channel_json: bytes, text: str
    ) -> None:
        line = segment.write(recv_ns, channel_json, text)
        store = self._store
        if store is not None:
            bucket = recv_ns // self._bucket_ns
            if bucket != self._bucket:
                # The store writes the finished bucket's parts now: the tape holds them first.
                segment.flush()
                self._bucket = bucket
            store.add(recv_ns, channel, text, line)

    def _write_market(self, segment: TapeSegment, market: Market, recv_ns: int) -> None:
        self._append(segment, recv_ns, PENGINE_MARKET, _MARKET_JSON, _encode(market).decode())
        self.stats.frames += 1
        self.stats.market_frames += 1

    def _arm_flush(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop: the segment is flushed when it closes
        self._timer = loop.call_later(self._flush_s, self._timed_flush)

    def _timed_flush(self) -> None:
        self._timer = None
        if self._store is not None:
            self._store.send()  # the store trails the tape by about a second at most
        try:
            self._segment.flush()
        except OSError as e:  # surfaced by check() / close(), in the owner's task
            log.error("flushing %s failed: %s", self._segment.path, e)
            self._failure = e

    # -- segments --------------------------------------------------------------------------

    def _open(self, first_ns: int) -> TapeSegment:
        index = self._next_index
        self._next_index += 1
        path = segment_path(self.tapes_dir, index, first_ns)
        header = {"created_ns": first_ns, "source": self._source, "segment": index}
        segment = TapeSegment(path, index, day=first_ns // DAY_NS, header=header)
        self._segment = segment
        if self._store is not None:
            self._store.begin_tape(path)
            self._bucket = -1
        self.stats.segments += 1
        self.stats.tape = str(path)
        self.stats.tapes.append(str(path))
        for market in self._markets.values():
            self._write_market(segment, market, first_ns)
        segment.opening = segment.frames
        return segment

    def _rotate(self, first_ns: int) -> TapeSegment:
        self._close_segment()
        return self._open(first_ns)

    def _close_segment(self) -> None:
        segment = self._segment
        segment.close()
        self._closed_bytes += segment.path.stat().st_size
        self.stats.tape_bytes = self._closed_bytes
        if self._store is not None:
            self._store.end_tape()
