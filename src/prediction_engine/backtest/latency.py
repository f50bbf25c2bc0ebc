"""Latency models: how late the engine sees the venue, and how late the venue sees the engine.

Three delays, each a constant or read from a table:

* **feed**: a venue event with receive time ``t`` reaches the engine at ``t + feed``. The
  recorded receive times already hold the latency of the machine that recorded them; this adds
  more (a slower deployment).
* **entry**: a command the engine sends at ``t`` reaches the venue (is matched) at
  ``t + entry``.
* **response**: a report the venue makes at ``t`` reaches the engine at ``t + response``.

A table is a CSV with a header ``ts_ns,feed_ns,entry_ns,response_ns`` (any of the last three
may be missing: that delay is then the constant), rows sorted by ``ts_ns``. Between two rows a
delay is interpolated linearly; before the first and after the last row it is the nearest row's,
as hftbacktest's interpolated order latency does with recorded order round trips.
"""

from __future__ import annotations

import bisect
import csv
from pathlib import Path

import msgspec

__all__ = ["Latency", "LatencyError", "LatencyModel"]

_COLUMNS = ("feed_ns", "entry_ns", "response_ns")


class LatencyError(ValueError):
    """A latency model or table that cannot be used; the message says why and where."""


class LatencyModel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Constant delays in nanoseconds, or a table of delays over time (``table``, a CSV path)."""

    feed_ns: int = 0
    entry_ns: int = 0
    response_ns: int = 0
    table: str | None = None

    def __post_init__(self) -> None:
        for name in _COLUMNS:
            if getattr(self, name) < 0:
                raise LatencyError(f"latency {name} must be >= 0, got {getattr(self, name)}")

    @property
    def zero(self) -> bool:
        """No delay anywhere: the backtest may take the direct path."""
        return not (self.feed_ns or self.entry_ns or self.response_ns or self.table)


class _Curve:
    """A delay over time: piecewise linear through (ts, delay) points, flat outside them."""

    def __init__(self, times: list[int], delays: list[int]) -> None:
        self.times, self.delays = times, delays

    def at(self, ts_ns: int) -> int:
        times, delays = self.times, self.delays
        i = bisect.bisect_right(times, ts_ns)
        if i == 0:
            return delays[0]
        if i == len(times):
            return delays[-1]
        t0, t1, d0, d1 = times[i - 1], times[i], delays[i - 1], delays[i]
        return d0 + (d1 - d0) * (ts_ns - t0) // (t1 - t0)


class Latency:
    """A :class:`LatencyModel` ready to answer: the delays at a given time."""

    def __init__(self, model: LatencyModel) -> None:
        self.model = model
        self._curves: dict[str, _Curve] = {}
        if model.table is not None:
            self._curves = _read_table(Path(model.table))

    def feed(self, ts_ns: int) -> int:
        """Delay of a venue event received at ``ts_ns`` on its way to the engine."""
        curve = self._curves.get("feed_ns")
        return self.model.feed_ns if curve is None else curve.at(ts_ns)

    def entry(self, ts_ns: int) -> int:
        """Delay of a command sent at ``ts_ns`` on its way to the venue."""
        curve = self._curves.get("entry_ns")
        return self.model.entry_ns if curve is None else curve.at(ts_ns)

    def response(self, ts_ns: int) -> int:
        """Delay of a report made at ``ts_ns`` on its way back to the engine."""
        curve = self._curves.get("response_ns")
        return self.model.response_ns if curve is None else curve.at(ts_ns)


def _read_table(path: Path) -> dict[str, _Curve]:
    try:
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            if "ts_ns" not in header:
                raise LatencyError(f"{path}: the latency table needs a ts_ns column")
            columns = [c for c in _COLUMNS if c in header]
            if not columns:
                raise LatencyError(f"{path}: no delay column (want one of {', '.join(_COLUMNS)})")
            rows = list(reader)
    except OSError as e:
        raise LatencyError(f"cannot read the latency table {path}: {e.strerror}") from e
    if not rows:
        raise LatencyError(f"{path}: the latency table has no rows")
    times: list[int] = []
    values: dict[str, list[int]] = {c: [] for c in columns}
    for line, row in enumerate(rows, start=2):
        try:
            ts = int(row["ts_ns"])
            for c in columns:
                value = int(row[c])
                if value < 0:
                    raise ValueError("negative delay")
                values[c].append(value)
        except (TypeError, ValueError) as e:
            raise LatencyError(f"{path}:{line}: want integer nanoseconds >= 0 ({e})") from e
        if times and ts <= times[-1]:
            raise LatencyError(f"{path}:{line}: ts_ns must increase ({ts} after {times[-1]})")
        times.append(ts)
    return {c: _Curve(times, values[c]) for c in columns}
