"""Parsers fed mutated real frames raise only the typed decode error, never anything else."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.polymarket.parse import parse_frame, parse_rest_book
from tests.conftest import SHARED_FIXTURES, TEST_DATA

FRAMES = [p.read_bytes() for p in sorted((SHARED_FIXTURES / "polymarket").glob("ws_*.json"))]
FRAMES += [
    line
    for p in sorted((TEST_DATA / "polymarket").glob("ws_market_stream_*.jsonl"))
    for line in p.read_bytes().splitlines()[:3]
]
REST_BOOK = (SHARED_FIXTURES / "polymarket" / "rest_clob_book.json").read_bytes()

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["0.5", "-1", "1e9", "", "0x", "BUY", "99999999999999999999", "0.0000001"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


def _parse_only_decode_errors(frame: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parse_frame(frame, 1)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_structural_mutations(frame: bytes, data: st.DataObject) -> None:
    doc = msgspec.json.decode(frame)
    path = data.draw(st.sampled_from(_paths(doc)))
    mutated = _replace(doc, path, data.draw(json_values))
    _parse_only_decode_errors(msgspec.json.encode(mutated))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_byte_mutations(frame: bytes, data: st.DataObject) -> None:
    raw = bytearray(frame)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip" and raw:
            raw[pos] = data.draw(st.integers(0, 255))
        elif action == "delete" and raw:
            del raw[pos]
        elif action == "insert":
            raw.insert(pos, data.draw(st.sampled_from(b'{}[]",:0.-e\\')))
        else:
            del raw[pos:]
    _parse_only_decode_errors(bytes(raw))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_rest_book_mutations(data: st.DataObject) -> None:
    doc = msgspec.json.decode(REST_BOOK)
    path = data.draw(st.sampled_from(_paths(doc)))
    body = msgspec.json.encode(_replace(doc, path, data.draw(json_values)))
    with contextlib.suppress(DecodeError):
        parse_rest_book(body, 0)
