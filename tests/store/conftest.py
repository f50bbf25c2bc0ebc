"""Shared inputs of the event store tests: a small simulated tape and the real captures."""

from __future__ import annotations

from pathlib import Path

import pytest

from prediction_engine.sim.generate import generate_tape
from prediction_engine.sim.polymarket.world import WorldSpec

# Starts 30 s before a minute boundary, so 60 s buckets are crossed twice, and lists and
# resolves markets and rolls 1-minute Up/Down windows on the way.
SPEC = WorldSpec(
    clock_start_s=1773307230, step_ms=10, updown_minutes=(1,), arb_every_s=3.0,
    listing_every_s=8.0,
)
DURATION_S = 100.0


@pytest.fixture(scope="session")
def sim_tape(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated tape of 100 simulated seconds, named like a recorder's 7th tape."""
    path = tmp_path_factory.mktemp("tapes") / "tape-000007.jsonl.gz"
    generate_tape(path, seed=11, duration_s=DURATION_S, spec=SPEC)
    return path
