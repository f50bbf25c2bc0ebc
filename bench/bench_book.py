"""Order book: one level update plus a best-bid and best-ask read, per operation.

Target (issue 2): >= 5M updates/s per core. NautilusTrader's book from Python does 4.8M/s here.
The operation mix is a realistic one for a 0.01-tick binary book: 20 levels a side around the
mid, 20% of updates delete a level (often the best, which forces a scan), sizes random.
"""

from __future__ import annotations

import random
import sys

from common import best_rate, machine
from prediction_engine.core import book as book_module
from prediction_engine.core.book import OrderBook

N = 1_000_000
TICK = 10_000


def make_ops(seed: int = 7) -> list[tuple[bool, int, int]]:
    """Updates within 20 ticks of each side of the mid; a fifth of them delete a level."""
    rng = random.Random(seed)
    ops = []
    for _ in range(N):
        is_bid = rng.random() < 0.5
        tick = rng.randint(30, 49) if is_bid else rng.randint(51, 70)
        size = 0 if rng.random() < 0.2 else rng.randint(1, 10**10)
        ops.append((is_bid, tick * TICK, size))
    return ops


def run() -> float:
    """Return updates per second (update + best bid + best ask)."""
    ops = make_ops()
    book = OrderBook(TICK)
    book.apply_snapshot([(p * TICK, 10**8) for p in range(30, 50)],
                        [(p * TICK, 10**8) for p in range(51, 71)])

    def loop() -> int:
        set_level = book.set_level
        for is_bid, price, size in ops:
            set_level(is_bid, price, size)
            book.best_bid  # noqa: B018 - the read is what we measure
            book.best_ask  # noqa: B018
        return len(ops)

    return best_rate(loop)


if __name__ == "__main__":
    compiled = book_module.__file__.endswith(".so")
    rate = run()
    print(f"book update + best bid/ask read: {rate / 1e6:.2f}M updates/s "
          f"({'mypyc-compiled' if compiled else 'pure Python'}; {machine()})")
    sys.exit(0 if rate >= 5e6 else 1)
