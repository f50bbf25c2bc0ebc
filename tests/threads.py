"""Serve an async context manager (a simulator, a fake API) from a thread of its own.

For tests that drive a CLI subprocess: the served side needs an event loop that keeps running
while the test blocks on the subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

__all__ = ["served_in_thread"]

T = TypeVar("T")


@contextlib.contextmanager
def served_in_thread(open_: Callable[[], AbstractAsyncContextManager[T]]) -> Iterator[T]:
    """Enter ``open_()`` on a new loop in a daemon thread; yield what it gave; exit it after."""
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    done = asyncio.Event()
    served: list[T] = []

    async def serve() -> None:
        async with open_() as value:
            served.append(value)
            ready.set()
            await done.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the served context did not start within 10 s"
    try:
        yield served[0]
    finally:
        loop.call_soon_threadsafe(done.set)
        thread.join(10)
