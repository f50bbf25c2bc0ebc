"""A small event store written by the simulator's world generator, shared by the module."""

from __future__ import annotations

from pathlib import Path

import pytest

from prediction_engine.sim.generate import generate_tape
from prediction_engine.store.convert import convert_tape


@pytest.fixture(scope="session")
def world_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two simulated minutes (seed 5) converted into a Parquet store."""
    base = tmp_path_factory.mktemp("world")
    tape = base / "world.jsonl.gz"
    generate_tape(tape, seed=5, duration_s=120)
    convert_tape(tape, base / "store")
    return base / "store"
