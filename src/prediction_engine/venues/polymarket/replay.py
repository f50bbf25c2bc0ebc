"""Read captured Polymarket frames from files and replay them into books (pure, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from prediction_engine.core.book_sync import BookSet
from prediction_engine.core.events import Event
from prediction_engine.tape import POLYMARKET_MARKET, TapeError, TapeReader
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.polymarket.parse import PolymarketParser

__all__ = ["FrameFileError", "ReplayResult", "decode_file", "iter_frames", "replay_books"]


class FrameFileError(ValueError):
    """A capture file we cannot read as JSON or JSONL frames."""


def iter_frames(path: Path) -> Iterator[bytes]:
    """Yield the frames of a capture: a JSON file holds one frame (an object, or the venue's
    initial array of books); a ``.jsonl`` file holds one frame per non-empty line; a tape
    (``prediction_engine.tape``, e.g. ``tape.jsonl.gz``) yields its Polymarket market frames."""
    if path.suffix == ".gz" or _is_tape(path):
        yield from _tape_frames(path)
        return
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FrameFileError(f"cannot read {path}: {e.strerror}") from e
    if path.suffix == ".jsonl":
        yield from (line for line in data.splitlines() if line.strip())
        return
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError:
        # Not one JSON document: treat it as JSONL without the suffix.
        yield from (line for line in data.splitlines() if line.strip())
        return
    yield data


@dataclass
class ReplayResult:
    """Books after a replay, with what could not be decoded."""

    books: BookSet = field(default_factory=BookSet)
    events: int = 0
    errors: list[str] = field(default_factory=list)


def _is_tape(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(8) == b'{"tape":'
    except OSError:
        return False


def _tape_frames(path: Path) -> Iterator[bytes]:
    reader = TapeReader(path)
    try:
        for record in reader:
            if record.ch == POLYMARKET_MARKET:
                yield record.raw.encode()
    except TapeError as e:
        raise FrameFileError(str(e)) from e


def decode_file(path: Path) -> Iterator[Event | DecodeError]:
    """Decode every frame of a capture; bad frames come out as their error, not raised."""
    parser = PolymarketParser()
    for frame in iter_frames(path):
        try:
            yield from parser.any_frame(frame, 0)
        except DecodeError as e:
            yield e


def replay_books(path: Path) -> ReplayResult:
    """Replay a capture into books, exactly as the live session would."""
    result = ReplayResult()
    for item in decode_file(path):
        if isinstance(item, DecodeError):
            result.errors.append(str(item))
            continue
        result.events += 1
        result.books.apply(item)
    return result
