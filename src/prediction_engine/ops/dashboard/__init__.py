"""The live web dashboard: snapshots of a runtime, served as a page, JSON and SSE.

``snapshot`` holds the plain data; ``publisher`` copies a runtime into snapshots (the only
module here that reads engine state); ``server`` serves snapshots and may import neither the
engine nor the runtime; ``service`` runs both, in a paper run or from a run's snapshot file.
"""

from prediction_engine.ops.dashboard.publisher import DashboardPublisher, SnapshotHub
from prediction_engine.ops.dashboard.server import DashboardServer, check_host, new_token
from prediction_engine.ops.dashboard.service import (
    Dashboard,
    DashboardOptions,
    follow_snapshot_file,
    serve_snapshot_file,
)
from prediction_engine.ops.dashboard.snapshot import DashboardSnapshot

__all__ = [
    "Dashboard",
    "DashboardOptions",
    "DashboardPublisher",
    "DashboardServer",
    "DashboardSnapshot",
    "SnapshotHub",
    "check_host",
    "follow_snapshot_file",
    "new_token",
    "serve_snapshot_file",
]
