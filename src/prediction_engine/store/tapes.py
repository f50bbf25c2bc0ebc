"""Read a tape with the line number of every frame (the store's ``seq`` needs it).

Same format and rules as :class:`prediction_engine.tape.TapeReader` (header on line 0, a gzip
tape cut short by a crash ends at its last complete line, a plain capture of raw Polymarket
frames is read with the time of each frame's own ``timestamp``), plus: line numbers, the bytes
of the file consumed so far, and a record line that does not decode is kept as an error
instead of stopping the read.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from prediction_engine.tape import POLYMARKET_MARKET, TAPE_VERSION, TapeError, TapeRecord

__all__ = ["NumberedTape", "tape_index", "tape_source"]

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


class _Timestamped(msgspec.Struct):
    timestamp: int | str | None = None


_record_decoder = msgspec.json.Decoder(TapeRecord)
_header_decoder = msgspec.json.Decoder(dict[str, Any])
_ts_decoder = msgspec.json.Decoder(_Timestamped | list[_Timestamped])


class NumberedTape:
    """Iterate ``(line_number, record)`` of a tape; line 0 is the header when there is one.

    After iterating: ``header``, ``truncated`` (a gzip tape ended mid-line or mid-member),
    ``lines`` (lines read), ``bad_lines`` (``"path:line: reason"`` of records that did not
    decode). ``bytes_read`` follows the file position, for progress bars.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
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
            return TapeRecord(_frame_time_ns(line), POLYMARKET_MARKET, line.rstrip(b"\r\n").decode(
                "utf-8", "replace"))
        try:
            return _record_decoder.decode(line)
        except msgspec.DecodeError as e:
            self.bad_lines.append(f"{self.path}:{number}: not a tape record ({e})")
            return None

    def _read_header(self, line: bytes) -> None:
        try:
            self.header = _header_decoder.decode(line)
        except msgspec.DecodeError as e:
            raise TapeError(f"{self.path}:0: bad tape header ({e})") from e
        if self.header.get("tape") != TAPE_VERSION:
            version = self.header.get("tape")
            raise TapeError(f"{self.path}: tape version {version!r} is not supported")


def _frame_time_ns(line: bytes) -> int:
    """A plain capture line's own ``timestamp`` in ns (the first book's, for an array); 0 if none.

    The same rule as :mod:`prediction_engine.tape` applies to plain captures.
    """
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
