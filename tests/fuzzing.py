"""Mutations of real frames for parser fuzz tests: structural (replace a JSON value) and bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from hypothesis import strategies as st


def json_values(words: Sequence[str] = ()) -> st.SearchStrategy[Any]:
    """Arbitrary JSON values, plus ``words`` and tricky numbers a venue parser should refuse."""
    tricky = ["0.5", "-1", "1e9", "", "NaN", "Infinity", "0x", "99999999999999999999",
              "0.0000001", *words]
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
        | st.text(max_size=12) | st.sampled_from(tricky),
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6,
    )


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a decoded JSON document (``()`` is the root)."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += json_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += json_paths(item, (*prefix, i))
    return out


def replace_at(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the value at ``path`` replaced by ``new``."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replace_at(value[head], rest, new)}
    copy = list(value)
    copy[head] = replace_at(copy[head], rest, new)
    return copy


def mutate_structure(frame: bytes, data: st.DataObject, values: st.SearchStrategy[Any]) -> bytes:
    """Replace one value anywhere in the frame's JSON with a drawn one."""
    doc = msgspec.json.decode(frame)
    path = data.draw(st.sampled_from(json_paths(doc)))
    return msgspec.json.encode(replace_at(doc, path, data.draw(values)))


def mutate_bytes(frame: bytes, data: st.DataObject) -> bytes:
    """Flip, delete, insert bytes or truncate, one to four times."""
    raw = bytearray(frame)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip" and raw:
            raw[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "delete" and raw:
            del raw[pos]
        elif action == "insert":
            raw.insert(pos, data.draw(st.sampled_from(b'{}[]",:0.-e\\\x80')))
        else:
            del raw[pos:]
    return bytes(raw)
