"""Fixtures for the simulated-venue tests: a running SimPolymarket and an HTTP session."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

try:
    import prediction_engine.sim  # noqa: F401
except ModuleNotFoundError:  # package not installed into the venv: use the src layout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from prediction_engine.sim.polymarket import SimConfig, SimPolymarket


@pytest.fixture
async def sim() -> AsyncIterator[SimPolymarket]:
    """A running venue streaming 200 updates per second."""
    async with SimPolymarket(SimConfig(seed=7, updates_per_second=200)) as venue:
        yield venue


@pytest.fixture
async def quiet_sim() -> AsyncIterator[SimPolymarket]:
    """A running venue whose generator starts paused (drive it with `advance`)."""
    config = SimConfig(seed=7, start_paused=True, max_assets_per_connection=5)
    async with SimPolymarket(config) as venue:
        yield venue


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp client session."""
    async with aiohttp.ClientSession() as session:
        yield session
