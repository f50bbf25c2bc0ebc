"""``manifest.json``: which tapes a store was built from and what each Parquet file covers.

The manifest is rewritten whole, atomically (temp file, fsync, rename), after every batch of
parts, so a reader never sees a half-written one and it never names a file that is not there.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from prediction_engine.store.tables import SCHEMA_VERSION

__all__ = [
    "MANIFEST_NAME",
    "FileEntry",
    "Manifest",
    "StoreError",
    "TapeEntry",
    "load_manifest",
    "save_manifest",
]

MANIFEST_NAME = "manifest.json"


class StoreError(ValueError):
    """A store that cannot be read or written as asked; the message says which and why."""


class TapeEntry(msgspec.Struct, kw_only=True):
    """One source (a tape or a CSV file) converted into the store."""

    path: str
    """Relative to the store root when the source sits beside it, else absolute."""
    source: str = ""
    """The name its parts carry (``part-<source>-<bucket>.parquet``)."""
    frames: int = 0
    lines: int = 0
    """Lines read, the header included (the next line number a recorder would write)."""
    first_ns: int | None = None
    """Earliest receive time of a frame."""
    last_ns: int | None = None
    """Latest receive time of a frame."""
    complete: bool = False
    """The whole source was converted (``end_tape`` ran)."""


class FileEntry(msgspec.Struct, kw_only=True):
    """One Parquet part."""

    path: str
    """Relative to the store root, ``/``-separated."""
    table: str
    venue: str
    date: str
    market: str
    """The partition key: a condition id, or a lower-case symbol for ``reference_prices``."""
    rows: int
    ts_recv_min: int
    ts_recv_max: int
    seq_min: int
    seq_max: int
    source: str


class Manifest(msgspec.Struct, kw_only=True):
    """What a store holds."""

    schema_version: int = SCHEMA_VERSION
    tapes: list[TapeEntry] = msgspec.field(default_factory=list)
    files: list[FileEntry] = msgspec.field(default_factory=list)


_decoder = msgspec.json.Decoder(Manifest)


def load_manifest(root: Path) -> Manifest:
    """The store's manifest; an empty one when ``root`` holds none yet."""
    path = root / MANIFEST_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Manifest()
    except OSError as e:
        raise StoreError(f"cannot read {path}: {e.strerror}") from e
    try:
        manifest = _decoder.decode(data)
    except msgspec.DecodeError as e:
        raise StoreError(f"{path} is not a store manifest: {e}") from e
    if manifest.schema_version != SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {manifest.schema_version}; this pengine reads "
            f"version {SCHEMA_VERSION}"
        )
    return manifest


def save_manifest(root: Path, manifest: Manifest) -> None:
    """Write the manifest atomically; tapes and files sorted by path so output is stable."""
    manifest.tapes.sort(key=lambda tape: tape.path)
    manifest.files.sort(key=lambda entry: entry.path)
    text = msgspec.json.format(msgspec.json.encode(manifest), indent=1) + b"\n"
    root.mkdir(parents=True, exist_ok=True)
    path = root / MANIFEST_NAME
    temp = root / f".{MANIFEST_NAME}.tmp"
    with open(temp, "wb") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temp, path)
