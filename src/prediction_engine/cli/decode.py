"""``pengine decode`` and ``pengine book``: offline tools over captured frames."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from prediction_engine.cli import app
from prediction_engine.core.numbers import format_micro
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.polymarket.replay import FrameFileError, decode_file, replay_books

VenueOption = Annotated[
    str, typer.Option("--venue", help="Venue whose wire format the file holds.")
]
FileArgument = Annotated[
    Path,
    typer.Argument(
        help="Frames as a JSON file (one frame, or the initial array) or JSONL "
        "(one frame per line).",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]


def _check_venue(venue: str) -> None:
    if venue != "polymarket":
        raise typer.BadParameter(
            f"unsupported venue {venue!r}; supported: polymarket", param_hint="--venue"
        )


@app.command()
def decode(path: FileArgument, venue: VenueOption = "polymarket") -> None:
    """Decode captured frames into normalized events, one JSON object per line on stdout.

    Frames that do not decode are reported on stderr (and make the exit code 1); the rest are
    still written. Example: ``pengine decode --venue polymarket ws.jsonl > events.jsonl``
    """
    _check_venue(venue)
    encoder, out, bad = msgspec.json.Encoder(), sys.stdout.buffer, 0
    try:
        for item in decode_file(path):
            if isinstance(item, DecodeError):
                bad += 1
                typer.echo(f"error: {item}", err=True)
            else:
                out.write(encoder.encode(item) + b"\n")
    except FrameFileError as e:
        raise typer.BadParameter(str(e)) from e
    out.flush()
    if bad:
        typer.echo(f"{bad} frame(s) could not be decoded", err=True)
        raise typer.Exit(1)


def _levels(levels: list[tuple[int, int]]) -> list[list[str]]:
    return [[format_micro(p), format_micro(s)] for p, s in levels]


@app.command()
def book(path: FileArgument, venue: VenueOption = "polymarket") -> None:
    """Replay captured frames and print the final book of every token as JSON.

    Books are exact: prices and sizes as decimal strings, best level first. A token whose book
    never got a snapshot (or lost it to a tick-size change) is reported with ``"synced": false``.
    """
    _check_venue(venue)
    try:
        result = replay_books(path)
    except FrameFileError as e:
        raise typer.BadParameter(str(e)) from e
    report = {}
    for token, ob in sorted(result.books.books.items()):
        report[token] = {
            "synced": ob.valid,
            "tick_size": format_micro(ob.tick_size),
            "best_bid": None if ob.best_bid is None else format_micro(ob.best_bid),
            "best_ask": None if ob.best_ask is None else format_micro(ob.best_ask),
            "bids": _levels(ob.bids()),
            "asks": _levels(ob.asks()),
        }
    sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n")
    for error in result.errors:
        typer.echo(f"error: {error}", err=True)
    if result.errors:
        raise typer.Exit(1)
