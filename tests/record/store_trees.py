"""Helpers comparing event stores: file trees, manifests, the (seq, sub) of every row."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from prediction_engine.record import list_tapes
from prediction_engine.store.convert import convert_tape


def tree(root: Path) -> dict[str, bytes]:
    """Every Parquet part under ``root/v1`` by relative path, with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def convert_all(tapes_dir: Path, root: Path, bucket_s: int = 3600) -> dict[str, bytes]:
    """Convert every tape into a fresh store at ``root``; return its tree."""
    for tape in list_tapes(tapes_dir):
        convert_tape(tape, root, bucket_s=bucket_s)
    return tree(root)


def manifest_tapes(root: Path) -> dict[str, bool]:
    """Tape name -> complete, from the store's manifest."""
    manifest = json.loads((root / "manifest.json").read_text())
    return {Path(t["path"]).name: t["complete"] for t in manifest["tapes"]}


def row_positions(root: Path) -> Counter[tuple[int, int]]:
    """How many times each (seq, sub) occurs over every table of the store."""
    seen: Counter[tuple[int, int]] = Counter()
    for part in root.rglob("*.parquet"):
        table = pq.read_table(part, columns=["seq", "sub"])
        seen.update(zip(table["seq"].to_pylist(), table["sub"].to_pylist(), strict=True))
    return seen
