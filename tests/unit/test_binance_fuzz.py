"""The Binance parser fed mutated real frames raises only its typed decode error."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from prediction_engine.core.events import ReferencePrice
from prediction_engine.venues.binance.parse import BinanceDecodeError, parse
from tests.conftest import SHARED_FIXTURES

FRAMES = [p.read_bytes() for p in sorted((SHARED_FIXTURES / "binance").glob("*.json"))]
FRAMES += [b'{"result":null,"id":1}']

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["0.5", "-1", "1e9", "", "NaN", "trade", "aggTrade", "btcusdt@trade"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    return {**value, path[0]: _replace(value[path[0]], path[1:], new)}


def _parse_or_typed_error(frame: bytes | str) -> None:
    with contextlib.suppress(BinanceDecodeError):
        events = parse(frame, 1)
        assert all(isinstance(e, ReferencePrice) and e.price > 0 for e in events)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_structural_mutations(frame: bytes, data: st.DataObject) -> None:
    doc = msgspec.json.decode(frame)
    path = data.draw(st.sampled_from(_paths(doc)))
    _parse_or_typed_error(msgspec.json.encode(_replace(doc, path, data.draw(json_values))))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_dropped_keys(frame: bytes, data: st.DataObject) -> None:
    doc = msgspec.json.decode(frame)
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    parent = _replace(doc, (), doc)
    target = parent
    for key in path[:-1]:
        target = target[key] = dict(target[key])
    del target[path[-1]]
    _parse_or_typed_error(msgspec.json.encode(parent))


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
