"""Recording: raw venue frames to rotating gzip tapes and, live, to the Parquet event store.

:class:`Recorder` is the part any session can use (``hooks()`` for its raw frames,
``add_markets()`` for market metadata, ``close()``); :func:`run_record` is ``pengine record``:
discovery, sessions, following listings and resolutions, restarts after a crash.

May import ``core``, ``engine.clock``, ``venues``, ``store``, ``tape`` and
``trading.runtime`` (for :class:`RawHooks`); not ``cli``, and not the rest of ``trading``
(which may record through this package).
"""

from prediction_engine.record.discovery import RecordInputError, select_markets
from prediction_engine.record.live import RecordOptions, RecordStatus, run_record
from prediction_engine.record.recorder import DEFAULT_ROTATE_BYTES, Recorder, RecorderStats
from prediction_engine.record.segments import list_tapes, tape_index

__all__ = [
    "DEFAULT_ROTATE_BYTES",
    "RecordInputError",
    "RecordOptions",
    "RecordStatus",
    "Recorder",
    "RecorderStats",
    "list_tapes",
    "run_record",
    "select_markets",
    "tape_index",
]
