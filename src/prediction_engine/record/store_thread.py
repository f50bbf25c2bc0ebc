"""Feed the Parquet store from a worker thread, so writing parts never stalls the event loop.

A bucket boundary makes :class:`~prediction_engine.store.StoreWriter` write one part per
table and market at once: with thousands of markets that is seconds of work, during which an
event loop running it inline would answer no ping and read no socket. Here the loop only
appends each frame to a batch and hands full batches to one thread, which calls the store in
exactly the order given (so the parts are the same as converting the tape later). The queue is
bounded: a store that falls far behind slows the recorder down instead of eating memory.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import Final

from prediction_engine.store.convert import StoreWriter

__all__ = ["StoreThread"]

log = logging.getLogger(__name__)

BATCH_FRAMES: Final = 512
MAX_BATCHES: Final = 400
"""About 200,000 frames (some 150 MB) may wait for the store before the recorder waits."""

_Frame = tuple[int, str, str, int]
_Item = list[_Frame] | Path | str | None
_END: Final = "end"


class StoreThread:
    """The same calls as :class:`StoreWriter` (``begin_tape``, ``add``, ``end_tape``), done in
    a worker thread; :meth:`close` waits for it. A failure in the thread is raised by the next
    :meth:`check` or :meth:`close`.

    ``files`` and ``rows`` count the parts and rows of the sources that ended; ``parts`` is
    the number of parts the store's manifest lists (all runs), updated as parts are written.
    """

    def __init__(self, root: Path, *, bucket_s: int) -> None:
        self._writer = StoreWriter(root, bucket_s=bucket_s)  # a bad store fails here, at once
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=MAX_BATCHES)
        self._batch: list[_Frame] = []
        self.files = 0
        self.rows = 0
        self.parts = len(self._writer.manifest.files)
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pengine-store", daemon=True)
        self._thread.start()

    def begin_tape(self, tape: Path) -> None:
        """Start a source (queued)."""
        self.send()
        self._queue.put(tape)

    def add(self, recv_ns: int, channel: str, raw: str, line: int) -> None:
        """Queue one frame."""
        batch = self._batch
        batch.append((recv_ns, channel, raw, line))
        if len(batch) >= BATCH_FRAMES:
            self.send()

    def end_tape(self) -> None:
        """End the source (queued): its last parts are written and it is marked complete."""
        self.send()
        self._queue.put(_END)

    def send(self) -> None:
        """Hand the frames batched so far to the thread."""
        if self._batch:
            self._queue.put(self._batch)
            self._batch = []

    def wait(self) -> None:
        """Block until the thread has handled everything sent so far."""
        self.send()
        self._queue.join()

    def check(self) -> None:
        """Raise what the thread failed with, if it did."""
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        """Wait until everything queued is written (end the source first); idempotent."""
        if self._thread.is_alive():
            self.send()
            self._queue.put(None)
            self._thread.join()
        self.check()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                if self.failure is None:  # else drain, so a waiting put() never blocks
                    self._handle(item)
            except BaseException as e:  # handed to the owner's thread by check()
                log.exception("writing the Parquet store failed")
                self.failure = e
            finally:
                self._queue.task_done()

    def _handle(self, item: _Item) -> None:
        writer = self._writer
        if isinstance(item, list):
            add = writer.add
            for recv_ns, channel, raw, line in item:
                add(recv_ns, channel, raw, line)
        elif isinstance(item, Path):
            writer.begin_tape(item)
        elif item == _END:
            stats = writer.end_tape()
            self.files += stats.files
            self.rows += stats.rows
        self.parts = len(writer.manifest.files)
