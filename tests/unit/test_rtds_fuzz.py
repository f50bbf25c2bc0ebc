"""The RTDS parser fed mutated real frames raises only the typed decode error."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from prediction_engine.core.events import ReferencePrice
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.polymarket.rtds_parse import parse_rtds_frame
from tests.conftest import SHARED_FIXTURES
from tests.fuzzing import json_values, mutate_bytes, mutate_structure

FRAMES = [p.read_bytes() for p in sorted((SHARED_FIXTURES / "polymarket").glob("rtds_*.json"))]

VALUES = json_values(["update", "subscribe", "crypto_prices", "btcusdt"])


def _parse_or_typed_error(frame: bytes | str) -> None:
    with contextlib.suppress(DecodeError):
        events = parse_rtds_frame(frame, 1)
        assert all(isinstance(e, ReferencePrice) and e.price > 0 for e in events)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_structural_mutations(frame: bytes, data: st.DataObject) -> None:
    _parse_or_typed_error(mutate_structure(frame, data, VALUES))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_byte_mutations(frame: bytes, data: st.DataObject) -> None:
    _parse_or_typed_error(mutate_bytes(frame, data))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text(text: str) -> None:
    _parse_or_typed_error(text)
