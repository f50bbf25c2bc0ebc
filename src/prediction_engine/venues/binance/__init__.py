"""Binance spot market data as reference prices: wire codec (pure) and the WebSocket session.

May import ``core``, ``config``, ``engine.clock`` and ``venues.websocket``; wire structs
(``wire``) stay inside this package, everything else sees ``core`` events.
"""
