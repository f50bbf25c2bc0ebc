"""The RTDS parser fed mutated real frames raises only the typed decode error."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from prediction_engine.core.events import ReferencePrice
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.polymarket.rtds_parse import parse_rtds_frame
from tests.conftest import SHARED_FIXTURES

FRAMES = [p.read_bytes() for p in sorted((SHARED_FIXTURES / "polymarket").glob("rtds_*.json"))]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["0.5", "-1", "1e9", "", "NaN", "Infinity", "update", "subscribe"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
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


def _parse_or_typed_error(frame: bytes | str) -> None:
    with contextlib.suppress(DecodeError):
        events = parse_rtds_frame(frame, 1)
        assert all(isinstance(e, ReferencePrice) and e.price > 0 for e in events)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_structural_mutations(frame: bytes, data: st.DataObject) -> None:
    doc = msgspec.json.decode(frame)
    path = data.draw(st.sampled_from(_paths(doc)))
    _parse_or_typed_error(msgspec.json.encode(_replace(doc, path, data.draw(json_values))))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_byte_mutations(frame: bytes, data: st.DataObject) -> None:
    raw = bytearray(frame)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip" and raw:
            raw[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "delete" and raw:
            del raw[pos]
        elif action == "insert":
            raw.insert(pos, data.draw(st.integers(0, 255)))
        else:
            del raw[pos:]
    _parse_or_typed_error(bytes(raw))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text(text: str) -> None:
    _parse_or_typed_error(text)
