"""Tapes: raw venue frames with their receive time, one JSON object per line.

A tape is what a recorder or the simulator's offline generator writes and what replay
reads. It depends only on the standard library and msgspec, so the simulators may use it.

Format (version 1), UTF-8 JSON Lines, gzip-compressed when the name ends in ``.gz``:

- first line, the header: ``{"tape": 1, "created_ns": ..., "source": "...", ...}``; any
  further header keys describe the tape (seed, clock start, ...);
- every other line, one frame: ``{"t": recv_ns, "ch": "polymarket.market", "raw": "..."}``
  where ``raw`` is the frame's text exactly as the venue sent it.

Appending to a gzip tape adds a gzip member, which readers handle, so a recorder can
reopen a tape after a restart. A plain capture (one raw venue frame per line, no header,
like the files in ``tests/data``) is read too: its times come from each frame's own
``timestamp`` (milliseconds) and its channel is ``polymarket.market``.
"""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

import msgspec

__all__ = [
    "BINANCE_TRADE",
    "PENGINE_MARKET",
    "POLYMARKET_MARKET",
    "RTDS_CRYPTO",
    "TAPE_VERSION",
    "TapeError",
    "TapeReader",
    "TapeRecord",
    "TapeWriter",
    "read_tape",
]

TAPE_VERSION: Final = 1
POLYMARKET_MARKET: Final = "polymarket.market"
BINANCE_TRADE: Final = "binance.trade"
RTDS_CRYPTO: Final = "rtds.crypto_prices"
PENGINE_MARKET: Final = "pengine.market"
"""Market metadata as we knew it when we recorded (raw = ``msgspec.json.encode(Market)``)."""


class TapeError(ValueError):
    """A tape that cannot be read; the message names the file and the line."""


class TapeRecord(msgspec.Struct, frozen=True, array_like=False):
    """One frame on a tape."""

    t: int
    ch: str
    raw: str


class _Timestamped(msgspec.Struct):
    timestamp: int | str | None = None


_record_decoder = msgspec.json.Decoder(TapeRecord)
_header_decoder = msgspec.json.Decoder(dict[str, Any])
_ts_decoder = msgspec.json.Decoder(_Timestamped | list[_Timestamped])
_encoder = msgspec.json.Encoder()


def _open_binary(path: Path, mode: str) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, mode)  # type: ignore[return-value]
    return open(path, mode)


class TapeWriter:
    """Append frames to a tape; writes the header when the file is new or empty."""

    def __init__(self, path: Path, *, source: str, **header: Any) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not path.exists() or path.stat().st_size == 0
        self._file = _open_binary(path, "ab")
        self.frames = 0
        if fresh:
            meta = {"tape": TAPE_VERSION, "created_ns": time.time_ns(), "source": source}
            self._file.write(_encoder.encode({**meta, **header}) + b"\n")

    def write(self, recv_ns: int, channel: str, raw: str | bytes) -> None:
        """Append one frame."""
        text = raw.decode() if isinstance(raw, bytes) else raw
        self._file.write(_encoder.encode(TapeRecord(recv_ns, channel, text)) + b"\n")
        self.frames += 1

    def flush(self) -> None:
        """Push buffered frames to the OS."""
        self._file.flush()

    def close(self) -> None:
        """Flush and close (a gzip tape gets its member trailer)."""
        self._file.close()

    def __enter__(self) -> TapeWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class TapeReader:
    """Iterate a tape's records; ``header`` is filled once the first line has been read.

    A gzip tape cut short by a crash yields every complete line, then sets ``truncated``
    instead of raising; any other unreadable line raises :class:`TapeError`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: dict[str, Any] = {}
        self.truncated = False
        self.plain = False

    def __iter__(self) -> Iterator[TapeRecord]:
        try:
            stream = _open_binary(self.path, "rb")
        except OSError as e:
            raise TapeError(f"cannot read tape {self.path}: {e.strerror}") from e
        with stream:
            yield from self._records(stream)

    def _records(self, stream: IO[bytes]) -> Iterator[TapeRecord]:
        number = 0
        while True:
            try:
                line = stream.readline()
            except (EOFError, zlib.error, gzip.BadGzipFile) as e:
                if number == 0:
                    raise TapeError(f"{self.path}: not a readable tape ({e})") from e
                self.truncated = True
                return
            if not line:
                return
            number += 1
            if not line.strip():
                continue
            if not line.endswith(b"\n") and self.path.suffix == ".gz":
                self.truncated = True  # the last line of a gzip tape was cut mid-write
                return
            record = self._line(line, number)
            if record is not None:
                yield record

    def _line(self, line: bytes, number: int) -> TapeRecord | None:
        if number == 1:
            if line.lstrip().startswith(b'{"tape"'):
                try:
                    self.header = _header_decoder.decode(line)
                except msgspec.DecodeError as e:
                    raise TapeError(f"{self.path}:1: bad tape header ({e})") from e
                if self.header.get("tape") != TAPE_VERSION:
                    version = self.header.get("tape")
                    raise TapeError(f"{self.path}: tape version {version!r} is not supported")
                return None
            self.plain = True
        if self.plain:
            try:
                text = line.rstrip(b"\r\n").decode()
            except UnicodeDecodeError as e:
                raise TapeError(f"{self.path}:{number}: not UTF-8 text ({e.reason})") from e
            return TapeRecord(_frame_time_ns(line), POLYMARKET_MARKET, text)
        try:
            return _record_decoder.decode(line)
        except msgspec.DecodeError as e:
            raise TapeError(f"{self.path}:{number}: not a tape record ({e})") from e


def read_tape(path: Path) -> Iterator[TapeRecord]:
    """Every record of a tape (see :class:`TapeReader` for the header and truncation)."""
    return iter(TapeReader(path))


def _frame_time_ns(line: bytes) -> int:
    """A plain capture line's own ``timestamp`` in ns (the first book's, for an array)."""
    try:
        decoded = _ts_decoder.decode(line)
    except msgspec.DecodeError:
        return 0
    first = decoded[0] if isinstance(decoded, list) and decoded else decoded
    value = first.timestamp if isinstance(first, _Timestamped) else None
    try:
        return int(value) * 1_000_000 if value is not None else 0
    except ValueError:
        return 0
