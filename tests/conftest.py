"""Shared test helpers: fixture locations and golden-file comparison."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"
TEST_DATA = Path(__file__).resolve().parent / "data"
GOLDEN = Path(__file__).resolve().parent / "golden"


def shared_fixture(venue: str, name: str) -> Path:
    """Path of a real capture in ../shared/fixtures (skips nothing: a missing file fails)."""
    path = SHARED_FIXTURES / venue / name
    assert path.exists(), f"missing shared fixture {path}"
    return path


def assert_golden(name: str, value: object) -> None:
    """Compare ``value`` (msgspec-encodable) with tests/golden/NAME; UPDATE_GOLDENS=1 rewrites."""
    path = GOLDEN / name
    text = msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n"
    if os.environ.get("UPDATE_GOLDENS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"golden {path} missing: run with UPDATE_GOLDENS=1 and review it"
    assert text == path.read_text(), f"output differs from golden {path}"


@pytest.fixture
def polymarket_fixtures() -> Path:
    """Directory of the real Polymarket captures."""
    return SHARED_FIXTURES / "polymarket"
