"""Execution clients: paper (simulated matching against the live book) and, later, live.

May import ``core``. An execution client receives commands from the engine and reports back
through a callback that feeds the engine's inbox; it never mutates engine state.
"""

from prediction_engine.execution.base import ExecutionClient, ReportSink
from prediction_engine.execution.paper import PaperExecution

__all__ = ["ExecutionClient", "PaperExecution", "ReportSink"]
