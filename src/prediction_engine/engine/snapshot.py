"""The engine's state as plain data: what a journal snapshot holds and a restart restores.

:meth:`Engine.export_state <prediction_engine.engine.loop.Engine.export_state>` builds an
:class:`EngineSnapshot`; :meth:`~prediction_engine.engine.loop.Engine.import_state` puts one
back. It holds what trading must continue with: cash and positions, open orders and who owns
them, the order counter (client ids stay unique across restarts), the kill switch, the daily
PnL reference, per-market cooldowns, marks of held tokens (for reports) and the state each
strategy chose to persist (:class:`~prediction_engine.strategy.base.PersistentStrategy`).
Books, markets and reference prices are not in it: they come back from the venues.
"""

from __future__ import annotations

import msgspec

from prediction_engine.core.orders import Order
from prediction_engine.core.portfolio import Position
from prediction_engine.risk.limits import KillSwitch

__all__ = ["EngineSnapshot", "PortfolioState", "SessionStart"]


class PortfolioState(msgspec.Struct, frozen=True, kw_only=True):
    """A portfolio's ledger: money in micro-USD, every position ever held."""

    starting_cash: int
    cash: int
    realized: int
    fees: int
    positions: tuple[Position, ...] = ()


class EngineSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the engine must continue with after a restart (see the module docstring)."""

    ts_ns: int
    portfolio: PortfolioState
    open_orders: tuple[Order, ...] = ()
    order_strategy: dict[str, str] = {}
    next_order: int = 0
    kill_switch: KillSwitch = KillSwitch()
    day: int | None = None
    day_start_equity: int = 0
    daily_pnl: int = 0
    last_order_ns: dict[str, int] = {}
    marks: dict[str, int] = {}
    strategies: dict[str, msgspec.Raw] = {}


class SessionStart(msgspec.Struct, frozen=True, kw_only=True):
    """A process took over a run: its number, and the state it restored (before trading)."""

    ts_ns: int
    session: int
    pid: int
    restored_seq: int
    """The last journal record the restored state includes (0: a new run)."""
    snapshot_seq: int
    """The snapshot it started from (0: none, every record replayed)."""
    replayed: int
    portfolio: PortfolioState
    open_orders: tuple[Order, ...] = ()
