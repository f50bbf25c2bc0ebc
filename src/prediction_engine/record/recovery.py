"""Restart after a crash: convert the tape segments the event store did not finish.

A segment is finished when the store's manifest lists it as complete (``end_tape`` ran). Any
other segment under ``tapes/`` was being written when the recorder stopped without closing
(a crash, a kill, a full disk), or was recorded with ``--no-parquet``: it is converted from
the tape, which replaces whatever parts of it were written live.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prediction_engine.record.segments import list_tapes
from prediction_engine.store.convert import convert_tape
from prediction_engine.store.manifest import load_manifest

__all__ = ["complete_tapes", "recover_tapes"]


def complete_tapes(store_root: Path) -> set[Path]:
    """Tapes the store's manifest lists as complete (resolved paths)."""
    done: set[Path] = set()
    for entry in load_manifest(store_root).tapes:
        if entry.complete:
            path = Path(entry.path)
            done.add((path if path.is_absolute() else store_root / path).resolve())
    return done


def recover_tapes(
    tapes_dir: Path,
    store_root: Path,
    bucket_s: int,
    on_tape: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Convert every segment the store has not completed; return them in counter order."""
    done = complete_tapes(store_root)
    pending = [p for p in list_tapes(tapes_dir) if p.resolve() not in done]
    for tape in pending:
        if on_tape is not None:
            on_tape(tape)
        convert_tape(tape, store_root, bucket_s=bucket_s)
    return pending
