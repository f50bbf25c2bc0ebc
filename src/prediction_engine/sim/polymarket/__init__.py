"""Simulated Polymarket venue: Gamma, CLOB REST and the market WebSocket on one local port.

May import only the standard library, aiohttp and msgspec (never `prediction_engine.venues`).
`world`, `book`, `dynamics`, `catalog`, `gamma`, `clob`, `queries`, `wire` are pure and
deterministic from the seed; `server`, `routes` and `stream` are the aiohttp shell.
"""

from prediction_engine.sim.polymarket.server import MarketInfo, SimConfig, SimPolymarket

__all__ = ["MarketInfo", "SimConfig", "SimPolymarket"]
