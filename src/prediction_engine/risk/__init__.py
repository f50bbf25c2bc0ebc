"""Risk: pure pre-trade checks of an order intent against limits and a read-only state view.

May import ``core`` only. No I/O, no clock (``now_ns`` comes in), no hidden state: the kill
switch is a value in the state view, flipped by the engine.
"""

from prediction_engine.risk.limits import (
    Approved,
    Decision,
    InstrumentView,
    KillSwitch,
    Rejected,
    RejectReason,
    RiskLimits,
    RiskState,
    buy_room,
    check,
    halt_reason,
    violations,
)
from prediction_engine.risk.summary import RiskSummary, summarize, with_order

__all__ = [
    "Approved",
    "Decision",
    "InstrumentView",
    "KillSwitch",
    "RejectReason",
    "Rejected",
    "RiskLimits",
    "RiskState",
    "RiskSummary",
    "buy_room",
    "check",
    "halt_reason",
    "summarize",
    "violations",
    "with_order",
]
