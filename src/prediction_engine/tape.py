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
import re
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
    "NumberedTape",
    "TapeError",
    "TapeReader",
    "TapeRecord",
    "TapeWriter",
    "encode_frame",
    "read_tape",
    "tape_index",
    "tape_source",
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


_INDEX = re.compile(r"-(\d+)$")


def tape_source(path: Path) -> str:
    """The tape's file name without ``.gz`` and ``.jsonl``: ``tape-000003.jsonl.gz`` ->
    ``tape-000003``."""
    name = path.name
    for suffix in (".gz", ".jsonl"):
        name = name.removesuffix(suffix)
    return name


def tape_index(source: str) -> int:
    """The trailing ``-NNNNNN`` counter of a source name (0 without one)."""
    match = _INDEX.search(source)
    return int(match.group(1)) if match else 0


_record_decoder = msgspec.json.Decoder(TapeRecord)
_header_decoder = msgspec.json.Decoder(dict[str, Any])
_ts_decoder = msgspec.json.Decoder(_Timestamped | list[_Timestamped])
_encoder = msgspec.json.Encoder()


def _open_binary(path: Path, mode: str) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, mode)  # type: ignore[return-value]
    return open(path, mode)


def encode_frame(recv_ns: int, channel: bytes, text: str) -> bytes:
    """One tape line, the same bytes ``msgspec.json.encode(TapeRecord(...)) + b"\\n"`` gives.

    ``channel`` is the channel name already encoded as a JSON string (``b'"polymarket.market"'``):
    a recorder encodes it once per channel, not once per frame.
    """
    return b'{"t":%d,"ch":%b,"raw":%b}\n' % (recv_ns, channel, _encoder.encode(text))


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
        self._file.write(encode_frame(recv_ns, _encoder.encode(channel), text))
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


class NumberedTape:
    """Iterate ``(line_number, record)`` of a tape; line 0 is the header when there is one.

    After iterating: ``header``, ``truncated`` (a gzip tape ended mid-line or mid-member),
    ``lines`` (lines read), ``bad_lines`` (``"path:line: reason"`` of records that did not
    decode, the line counted from 1 as editors do). ``bytes_read`` follows the file position,
    for progress bars. ``strict``: raise :class:`TapeError` for such a line instead.
    """

    def __init__(self, path: Path, *, strict: bool = False) -> None:
        self.path = path
        self.strict = strict
        self.header: dict[str, Any] = {}
        self.truncated = False
        self.plain = False
        self.lines = 0
        self.bad_lines: list[str] = []
        self._raw: IO[bytes] | None = None

    @property
    def bytes_read(self) -> int:
        """How far into the file (compressed bytes for a gzip tape) reading has got."""
        return self._raw.tell() if self._raw is not None and not self._raw.closed else 0

    def __iter__(self) -> Iterator[tuple[int, TapeRecord]]:
        try:
            raw = open(self.path, "rb")  # noqa: SIM115 (closed by the with below)
        except OSError as e:
            raise TapeError(f"cannot read tape {self.path}: {e.strerror}") from e
        with raw:
            self._raw = raw
            gz = self.path.suffix == ".gz"
            stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw  # type: ignore[assignment]
            yield from self._records(stream, gz)

    def _records(self, stream: IO[bytes], gz: bool) -> Iterator[tuple[int, TapeRecord]]:
        number = -1
        while True:
            try:
                line = stream.readline()
            except (EOFError, zlib.error, gzip.BadGzipFile) as e:
                if number < 0:
                    raise TapeError(f"{self.path}: not a readable tape ({e})") from e
                self.truncated = True
                return
            if not line:
                return
            if gz and not line.endswith(b"\n"):
                self.truncated = True  # the last line was cut mid-write
                return
            number += 1
            self.lines = number + 1
            if line.strip():
                record = self._line(line, number)
                if record is not None:
                    yield number, record

    def _line(self, line: bytes, number: int) -> TapeRecord | None:
        if number == 0 and line.lstrip().startswith(b'{"tape"'):
            self._read_header(line)
            return None
        if number == 0:
            self.plain = True
        if self.plain:
            return TapeRecord(_frame_time_ns(line), POLYMARKET_MARKET, self._text(line, number))
        try:
            return _record_decoder.decode(line)
        except msgspec.DecodeError as e:
            self._bad(f"{self.path}:{number + 1}: not a tape record ({e})")
            return None

    def _text(self, line: bytes, number: int) -> str:
        try:
            return line.rstrip(b"\r\n").decode()
        except UnicodeDecodeError as e:
            self._bad(f"{self.path}:{number + 1}: not UTF-8 text ({e.reason})")
            return line.rstrip(b"\r\n").decode("utf-8", "replace")

    def _bad(self, message: str) -> None:
        if self.strict:
            raise TapeError(message)
        self.bad_lines.append(message)

    def _read_header(self, line: bytes) -> None:
        try:
            self.header = _header_decoder.decode(line)
        except msgspec.DecodeError as e:
            raise TapeError(f"{self.path}:1: bad tape header ({e})") from e
        if self.header.get("tape") != TAPE_VERSION:
            version = self.header.get("tape")
            raise TapeError(f"{self.path}: tape version {version!r} is not supported")


class TapeReader:
    """Iterate a tape's records; ``header`` is filled once the first line has been read.

    A gzip tape cut short by a crash yields every complete line, then sets ``truncated``
    instead of raising; any other unreadable line raises :class:`TapeError`. (The records of
    :class:`NumberedTape` in strict mode, without their line numbers.)
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tape = NumberedTape(path, strict=True)

    @property
    def header(self) -> dict[str, Any]:
        """The header line, once read (empty for a plain capture)."""
        return self._tape.header

    @property
    def truncated(self) -> bool:
        """Whether a gzip tape ended mid-line or mid-member (a crash)."""
        return self._tape.truncated

    @property
    def plain(self) -> bool:
        """Whether this is a plain capture (raw frames, no header)."""
        return self._tape.plain

    def __iter__(self) -> Iterator[TapeRecord]:
        for _, record in self._tape:
            yield record


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
