"""The Binance parser fed mutated real frames raises only its typed decode error."""

from __future__ import annotations

import contextlib

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from prediction_engine.core.events import ReferencePrice
from prediction_engine.venues.binance.parse import BinanceDecodeError, parse
from tests.conftest import SHARED_FIXTURES
from tests.fuzzing import json_paths, json_values, mutate_bytes, mutate_structure

FRAMES = [p.read_bytes() for p in sorted((SHARED_FIXTURES / "binance").glob("*.json"))]
FRAMES += [b'{"result":null,"id":1}']

VALUES = json_values(["trade", "aggTrade", "btcusdt@trade"])


def _parse_or_typed_error(frame: bytes | str) -> None:
    with contextlib.suppress(BinanceDecodeError):
        events = parse(frame, 1)
        assert all(isinstance(e, ReferencePrice) and e.price > 0 for e in events)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_structural_mutations(frame: bytes, data: st.DataObject) -> None:
    _parse_or_typed_error(mutate_structure(frame, data, VALUES))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_dropped_keys(frame: bytes, data: st.DataObject) -> None:
    doc = msgspec.json.decode(frame)
    keyed = [p for p in json_paths(doc)[1:] if all(isinstance(k, str) for k in p)]
    path = data.draw(st.sampled_from(keyed))
    parent = dict(doc)
    target = parent
    for key in path[:-1]:
        target = target[key] = dict(target[key])
    del target[path[-1]]
    _parse_or_typed_error(msgspec.json.encode(parent))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_byte_mutations(frame: bytes, data: st.DataObject) -> None:
    _parse_or_typed_error(mutate_bytes(frame, data))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text(text: str) -> None:
    _parse_or_typed_error(text)
