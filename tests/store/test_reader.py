"""The replay reader's column descriptions give back exactly the values Arrow holds."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from prediction_engine.store.reader import CODES, CONST, _codes, column_values


@given(
    values=st.lists(st.none() | st.sampled_from(["a", "b", "c"]), min_size=1, max_size=80),
    start=st.integers(0, 10),
    encoded=st.booleans(),
)
def test_codes_with_nulls_and_offsets_read_back_as_arrow_holds_them(
    values: list[str | None], start: int, encoded: bool
) -> None:
    array = pa.array(values, pa.string())
    if encoded:
        array = array.dictionary_encode()
    array = array.slice(min(start, len(values) - 1))  # a slice starts at a bitmap offset
    column = _codes(array)
    expected = array.to_pylist()
    rows = np.arange(len(array), dtype=np.int64)
    if column[0] is CONST:
        assert expected == [column[1]] * len(expected)
    else:
        assert column[0] is CODES
        assert column_values(column, rows) == expected


def test_a_null_code_points_past_the_distinct_values() -> None:
    array = pa.array(["x", None, "y", None]).dictionary_encode()
    kind, codes, distinct = _codes(array)
    assert kind is CODES and distinct == ("x", "y", None)
    assert codes.tolist() == [0, 2, 1, 2]
