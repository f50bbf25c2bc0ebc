"""Parsers fed mutated real frames raise only the typed decode error, never anything else."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.polymarket.parse import parse_frame, parse_rest_book
from tests.conftest import SHARED_FIXTURES, TEST_DATA
from tests.fuzzing import json_values, mutate_bytes, mutate_structure

FRAMES = [p.read_bytes() for p in sorted((SHARED_FIXTURES / "polymarket").glob("ws_*.json"))]
FRAMES += [
    line
    for p in sorted((TEST_DATA / "polymarket").glob("ws_market_stream_*.jsonl"))
    for line in p.read_bytes().splitlines()[:3]
]
REST_BOOK = (SHARED_FIXTURES / "polymarket" / "rest_clob_book.json").read_bytes()

VALUES = json_values(["BUY", "SELL", "book", "price_change"])


def _parse_only_decode_errors(frame: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parse_frame(frame, 1)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_structural_mutations(frame: bytes, data: st.DataObject) -> None:
    _parse_only_decode_errors(mutate_structure(frame, data, VALUES))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_byte_mutations(frame: bytes, data: st.DataObject) -> None:
    _parse_only_decode_errors(mutate_bytes(frame, data))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_rest_book_mutations(data: st.DataObject) -> None:
    body = mutate_structure(REST_BOOK, data, VALUES)
    with contextlib.suppress(DecodeError):
        parse_rest_book(body, 0)
