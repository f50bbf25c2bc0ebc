"""Typed, frozen configuration: defaults, then a TOML file, then environment variables.

Every venue URL is configurable so the same code talks to the real venue or to a local
simulator on 127.0.0.1. Environment variables win over the file::

    PENGINE_POLYMARKET_GAMMA_URL, PENGINE_POLYMARKET_CLOB_URL, PENGINE_POLYMARKET_WS_MARKET_URL,
    PENGINE_POLYMARKET_WS_USER_URL, PENGINE_POLYMARKET_RTDS_URL, PENGINE_BINANCE_WS_URL,
    PENGINE_DATA_DIR

The file is ``$PENGINE_CONFIG`` or ``~/.config/pengine/config.toml`` if it exists::

    data_dir = "~/.local/share/pengine"
    [polymarket]
    gamma_url = "http://127.0.0.1:8080/gamma"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["BinanceConfig", "Config", "ConfigError", "PolymarketConfig", "load_config"]


class ConfigError(Exception):
    """Bad configuration: stop at start-up and say what to fix."""


class PolymarketConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Polymarket endpoints and session limits."""

    gamma_url: str = "https://gamma-api.polymarket.com"
    clob_url: str = "https://clob.polymarket.com"
    ws_market_url: str = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
    ws_user_url: str = "wss://ws-subscriptions-clob.polymarket.com/ws/user"
    rtds_url: str = "wss://ws-live-data.polymarket.com"
    max_assets_per_connection: int = 200
    snapshot_concurrency: int = 10
    gamma_requests_per_second: float = 25.0
    clob_requests_per_second: float = 50.0
    ping_interval_s: float = 10.0
    stale_after_s: float = 30.0
    reconnect_attempts: int = 10
    snapshot_timeout_s: float = 2.0


class BinanceConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Binance spot market-data endpoint."""

    ws_url: str = "wss://stream.binance.com:9443"


class Config(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything configurable, validated once at start-up."""

    data_dir: str = "~/.local/share/pengine"
    polymarket: PolymarketConfig = PolymarketConfig()
    binance: BinanceConfig = BinanceConfig()

    @property
    def data_path(self) -> Path:
        """The data directory with ``~`` expanded."""
        return Path(self.data_dir).expanduser()


_ENV = {
    "PENGINE_DATA_DIR": ("data_dir",),
    "PENGINE_POLYMARKET_GAMMA_URL": ("polymarket", "gamma_url"),
    "PENGINE_POLYMARKET_CLOB_URL": ("polymarket", "clob_url"),
    "PENGINE_POLYMARKET_WS_MARKET_URL": ("polymarket", "ws_market_url"),
    "PENGINE_POLYMARKET_WS_USER_URL": ("polymarket", "ws_user_url"),
    "PENGINE_POLYMARKET_RTDS_URL": ("polymarket", "rtds_url"),
    "PENGINE_BINANCE_WS_URL": ("binance", "ws_url"),
}


def _default_path(env: Mapping[str, str]) -> Path | None:
    if "PENGINE_CONFIG" in env:
        return Path(env["PENGINE_CONFIG"]).expanduser()
    home = Path(env.get("XDG_CONFIG_HOME", "~/.config")).expanduser() / "pengine" / "config.toml"
    return home if home.exists() else None


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load defaults, then ``path`` (or the default file), then environment overrides."""
    env = os.environ if env is None else env
    path = path or _default_path(env)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError as e:
            raise ConfigError(f"config file {path} does not exist") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {path} is not valid TOML: {e}") from e
    for name, keys in _ENV.items():
        if name in env:
            target = raw
            for key in keys[:-1]:
                target = target.setdefault(key, {})
            target[keys[-1]] = env[name]
    try:
        return msgspec.convert(raw, Config)
    except msgspec.ValidationError as e:
        where = f"in {path}" if path else "in the environment"
        raise ConfigError(f"invalid configuration {where}: {e}") from e
