"""Tape segments: where a recorder's tapes live, how they are named, one open segment.

A recording directory keeps its tapes as ``tapes/<YYYY-MM-DD>/tape-<NNNNNN>.jsonl.gz``: the
date is the UTC day of the segment's first frame, ``NNNNNN`` a counter that continues across
restarts (it is also the ``tape_index`` of the event store's ``seq``). A segment is created
exclusively and never reopened: a tape a crash may have cut short is left as it is.

:class:`TapeSegment` writes the :mod:`prediction_engine.tape` format (version 1) itself rather
than through :class:`~prediction_engine.tape.TapeWriter` because a recorder needs what that
class does not offer: the compressed size (rotation), the line number of every frame (the
store's ``seq``), exclusive creation, a cheaper compression level, and a sync flush that makes
everything written so far readable after a crash.
"""

from __future__ import annotations

import gzip
import re
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

import msgspec

from prediction_engine.tape import TAPE_VERSION, encode_frame

__all__ = [
    "DAY_NS",
    "TapeSegment",
    "list_tapes",
    "next_tape_index",
    "segment_path",
    "tape_index",
    "utc_date",
]

DAY_NS: Final = 86_400 * 1_000_000_000
COMPRESS_LEVEL: Final = 6
"""zlib's default: several times the speed of gzip's 9 for a few percent more bytes."""
BATCH_BYTES: Final = 64 * 1024
"""Lines are compressed in batches of about this size (fewer calls into gzip and zlib)."""

_NAME: Final = re.compile(r"tape-(\d{6,})\.jsonl\.gz")
_encode = msgspec.json.encode


def utc_date(ns: int) -> str:
    """``YYYY-MM-DD`` of a time in ns since the epoch (UTC)."""
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%d")


def tape_index(path: Path) -> int | None:
    """The counter of a segment's name (``tape-000042.jsonl.gz`` -> 42), else ``None``."""
    match = _NAME.fullmatch(path.name)
    return int(match.group(1)) if match else None


def list_tapes(tapes_dir: Path) -> list[Path]:
    """Every segment under ``tapes_dir`` (any date folder), in counter order."""
    found = [(tape_index(p), p) for p in tapes_dir.glob("*/tape-*.jsonl.gz")]
    return [p for index, p in sorted((i, p) for i, p in found if i is not None)]


def next_tape_index(tapes_dir: Path) -> int:
    """The counter the next segment takes: one past the highest existing one (1 when none)."""
    indexes = [tape_index(p) for p in tapes_dir.glob("*/tape-*.jsonl.gz")]
    return max((i for i in indexes if i is not None), default=0) + 1


def segment_path(tapes_dir: Path, index: int, first_ns: int) -> Path:
    """Where segment ``index`` starting at ``first_ns`` goes."""
    return tapes_dir / utc_date(first_ns) / f"tape-{index:06d}.jsonl.gz"


class TapeSegment:
    """One gzip tape being written: header first, then one frame per line.

    ``lines`` counts the lines written, header included, so the frame just written is line
    ``lines - 1`` (the header is line 0). Lines are compressed in batches of ``BATCH_BYTES``;
    ``compressed_bytes`` is the size of what has been compressed so far, and :meth:`flush`
    makes every line written so far readable from the file.
    """

    def __init__(self, path: Path, index: int, *, day: int, header: dict[str, Any]) -> None:
        self.path = path
        self.index = index
        self.day = day
        path.parent.mkdir(parents=True, exist_ok=True)
        self._raw: IO[bytes] = open(path, "xb")  # noqa: SIM115 - closed by close()
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", fileobj=self._raw, compresslevel=COMPRESS_LEVEL, mtime=0
        )
        self.frames = 0
        self.opening = 0  # frames it opened with (markets): never rotated on those alone
        self.lines = 0
        self.first_ns: int | None = None
        self.last_ns: int | None = None
        self.closed = False
        self._batch = bytearray()
        self.write_line(_encode({"tape": TAPE_VERSION, **header}) + b"\n")

    @property
    def compressed_bytes(self) -> int:
        """Bytes of the gzip file so far (written or buffered)."""
        return self._raw.tell()

    def write_line(self, line: bytes) -> int:
        """Append one encoded line; return its line number."""
        batch = self._batch
        batch += line
        if len(batch) >= BATCH_BYTES:
            self._gzip.write(batch)
            batch.clear()
        self.lines += 1
        return self.lines - 1

    def write(self, recv_ns: int, channel: bytes, text: str) -> int:
        """Append one frame; return its line number."""
        number = self.write_line(encode_frame(recv_ns, channel, text))
        self.frames += 1
        if self.first_ns is None:
            self.first_ns = recv_ns
        self.last_ns = recv_ns
        return number

    def flush(self) -> None:
        """Make every line written so far readable from the file (sync flush to the OS)."""
        if not self.closed:
            self._gzip.write(self._batch)
            self._batch.clear()
            self._gzip.flush(zlib.Z_SYNC_FLUSH)
            self._raw.flush()

    def close(self) -> None:
        """Write the gzip trailer and close the file."""
        if self.closed:
            return
        self.closed = True
        self._gzip.write(self._batch)
        self._batch.clear()
        self._gzip.close()
        self._raw.close()
