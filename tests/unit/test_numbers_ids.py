from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prediction_engine.core.ids import (
    InstrumentId,
    InvalidIdError,
    TokenId,
    Venue,
    parse_condition_id,
    parse_instrument_id,
    parse_token_id,
)
from prediction_engine.core.numbers import (
    FixedPointError,
    format_micro,
    micro_to_decimal,
    parse_micro,
)


@pytest.mark.parametrize(
    ("text", "micro"),
    [
        ("0.51", 510_000),
        ("219.217767", 219_217_767),
        (".48", 480_000),
        ("5", 5_000_000),
        ("0", 0),
        ("10500100", 10_500_100_000_000),
        ("0.000001", 1),
        ("1.", 1_000_000),
    ],
)
def test_parse_micro_exact(text: str, micro: int) -> None:
    assert parse_micro(text) == micro


@pytest.mark.parametrize(
    "text", ["", ".", "-1", "+1", "1e3", "0.0000001", "1_000", " 1", "1,5", "nan", "٣", "0x10"]
)
def test_parse_micro_rejects(text: str) -> None:
    with pytest.raises(FixedPointError):
        parse_micro(text)


@given(st.decimals(min_value=0, max_value=10**12, places=6, allow_nan=False))
def test_parse_format_roundtrip(value: Decimal) -> None:
    text = format(value, "f")
    micro = parse_micro(text)
    assert micro_to_decimal(micro) == value
    assert parse_micro(format_micro(micro)) == micro


def test_format_micro_shortest() -> None:
    assert format_micro(510_000) == "0.51"
    assert format_micro(5_000_000) == "5"
    assert format_micro(-1) == "-0.000001"


def test_ids_parse_and_format() -> None:
    token = parse_token_id(
        "21742633143463906290569050155826241533067272736897614950488156847949938836455"
    )
    assert parse_condition_id("0xDD22") == "0xdd22"
    inst = InstrumentId(Venue.POLYMARKET, token)
    assert parse_instrument_id(str(inst)) == inst
    assert hash(parse_instrument_id(str(inst))) == hash(inst)
    for bad in ["", "12a", "1" * 79, "-1"]:
        with pytest.raises(InvalidIdError):
            parse_token_id(bad)
    for bad in ["dd22", "0x", "0xZZ", "0x" + "a" * 65]:
        with pytest.raises(InvalidIdError):
            parse_condition_id(bad)
    with pytest.raises(InvalidIdError):
        parse_instrument_id("nowhere:1")
    with pytest.raises(InvalidIdError):
        parse_instrument_id(TokenId("123"))
