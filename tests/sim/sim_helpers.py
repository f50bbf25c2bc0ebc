"""Helpers shared by the simulated-venue tests: fixture loading, JSON kinds, a naive book."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "polymarket"


def fixture(name: str) -> Any:
    """A real captured message from the shared fixtures."""
    return json.loads((FIXTURES / name).read_text())


def kind(value: Any) -> str:
    """JSON type name of a decoded value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return {str: "str", list: "list", dict: "dict", type(None): "null"}[type(value)]


def kinds(obj: dict[str, Any]) -> dict[str, str]:
    """Key -> JSON type of an object."""
    return {key: kind(value) for key, value in obj.items()}


class NaiveBook:
    """Reference replay of one asset's book from `book` and `price_change` frames."""

    def __init__(self) -> None:
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}

    def snapshot(self, frame: dict[str, Any]) -> None:
        self.bids = {_norm(lv["price"]): _norm(lv["size"]) for lv in frame["bids"]}
        self.asks = {_norm(lv["price"]): _norm(lv["size"]) for lv in frame["asks"]}

    def change(self, entry: dict[str, Any]) -> None:
        side = self.bids if entry["side"] == "BUY" else self.asks
        price = _norm(entry["price"])
        if Decimal(entry["size"]) == 0:
            side.pop(price, None)
        else:
            side[price] = _norm(entry["size"])

    def top(self) -> tuple[str, str]:
        best_bid = max(self.bids, key=Decimal) if self.bids else "0"
        best_ask = min(self.asks, key=Decimal) if self.asks else "1"
        return best_bid, best_ask


def _norm(text: str) -> str:
    value = Decimal(text).normalize()
    return format(value, "f")


async def subscribe(
    ws: aiohttp.ClientWebSocketResponse, assets: list[str], custom: bool = True
) -> None:
    """Send the market-channel subscribe message."""
    await ws.send_str(
        json.dumps({"assets_ids": assets, "type": "market", "custom_feature_enabled": custom})
    )


async def read_until(ws: aiohttp.ClientWebSocketResponse, marker: str) -> list[str]:
    """Every text frame up to (not including) `marker`."""
    frames: list[str] = []
    while True:
        message = await ws.receive(timeout=10)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        if message.data == marker:
            return frames
        frames.append(message.data)
