"""Fault plans: what `pengine sim --fault-...` and tests switch on, and the scheduler that
injects the periodic ones (connection drops, stalls, tick-size changes).

Per-frame faults (delay, duplicate, reorder, malformed) live in the WebSocket writers
(`stream.StreamFaults`); random HTTP errors in the routes' middleware. Every injection is
counted in the venue's counters under a `fault_` name.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["FaultPlan", "run_schedule"]


@dataclass(frozen=True)
class FaultPlan:
    """Faults to inject; zero (the default) switches each one off."""

    drop_every_s: float = 0.0
    """Abort every WebSocket connection this often."""
    stall_every_s: float = 0.0
    stall_s: float = 3.0
    """How long each stall lasts (sockets open, nothing sent, backlog delivered after)."""
    delay_s: float = 0.0
    """Deliver every WebSocket frame this late."""
    duplicate: float = 0.0
    reorder: float = 0.0
    malformed: float = 0.0
    """Per-frame probabilities."""
    http_error_rate: float = 0.0
    http_error_statuses: tuple[int, ...] = (429, 503)
    tick_change_every_s: float = 0.0
    """Change a random open market's tick size (0.01 <-> 0.001) this often."""

    def __post_init__(self) -> None:
        for name in ("duplicate", "reorder", "malformed", "http_error_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1]")
        for name in ("drop_every_s", "stall_every_s", "stall_s", "delay_s", "tick_change_every_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")

    @property
    def periodic(self) -> bool:
        """Whether the scheduler has anything to do."""
        return bool(self.drop_every_s or self.stall_every_s or self.tick_change_every_s)

    def describe(self) -> list[str]:
        """One line per fault that is on, for the CLI banner."""
        lines = []
        if self.drop_every_s:
            lines.append(f"drop every connection every {self.drop_every_s:g} s")
        if self.stall_every_s:
            lines.append(f"stall the market feed {self.stall_s:g} s every {self.stall_every_s:g} s")
        if self.delay_s:
            lines.append(f"delay every frame {self.delay_s * 1000:g} ms")
        for name in ("duplicate", "reorder", "malformed"):
            if value := getattr(self, name):
                lines.append(f"{name} {value:.1%} of frames")
        if self.http_error_rate:
            statuses = "/".join(map(str, self.http_error_statuses))
            lines.append(f"answer {self.http_error_rate:.1%} of HTTP requests with {statuses}")
        if self.tick_change_every_s:
            lines.append(f"change a tick size every {self.tick_change_every_s:g} s")
        return lines


Action = Callable[[], Awaitable[None]]


async def run_schedule(
    plan: FaultPlan, *, drop: Action, stall: Action, tick_change: Action, seed: int = 0
) -> None:
    """Run the periodic faults until cancelled (each with its own jittered period)."""
    rng = random.Random(seed)
    jobs = [
        (plan.drop_every_s, drop),
        (plan.stall_every_s, stall),
        (plan.tick_change_every_s, tick_change),
    ]
    async with asyncio.TaskGroup() as group:
        for every, action in jobs:
            if every > 0:
                group.create_task(_every(every, action, rng))


async def _every(period_s: float, action: Action, rng: random.Random) -> None:
    while True:
        await asyncio.sleep(period_s * rng.uniform(0.8, 1.2))
        await action()
