"""Decode + normalize + apply of real-shaped Polymarket ``price_change`` frames.

Target (issue 2): >= 250k frames/s per core. Frames are generated in the 2025+ wire shape
(two mirrored legs per frame, 40-hex hashes, 78-digit token ids, venue best bid/ask) over 20
markets (40 tokens) with random sizes, so the parser's memo tables see realistic misses.
Each frame is parsed by ``PolymarketParser`` and reduced into a ``BookSet`` with the
top-of-book check on, exactly as the live session does.
"""

from __future__ import annotations

import random
import sys

import msgspec

from common import best_rate, machine
from prediction_engine.core.book import OrderBook
from prediction_engine.core.book_sync import BookSet
from prediction_engine.core.numbers import ONE, format_micro
from prediction_engine.venues.polymarket.parse import PolymarketParser

N_FRAMES = 200_000
N_MARKETS = 20
TICK = 10_000


def _token(rng: random.Random) -> str:
    return str(rng.getrandbits(255))


def _best(book: OrderBook) -> tuple[str, str]:
    bid, ask = book.best_bid, book.best_ask
    return format_micro(bid or 0), format_micro(ask if ask is not None else ONE)


def make_frames(seed: int = 11) -> tuple[list[bytes], list[bytes]]:
    """Initial book frames and ``N_FRAMES`` price_change frames consistent with them."""
    rng = random.Random(seed)
    markets = [("0x" + rng.randbytes(32).hex(), _token(rng), _token(rng)) for _ in range(N_MARKETS)]
    books = {m: OrderBook(TICK) for m, _, _ in markets}
    snapshots = []
    for market, yes, no in markets:
        book = books[market]
        bids = [(p * TICK, rng.randint(1, 10**9) * 10_000) for p in range(30, 50)]
        asks = [(p * TICK, rng.randint(1, 10**9) * 10_000) for p in range(51, 71)]
        book.apply_snapshot(bids, asks)
        for token, b, a in ((yes, bids, asks), (no, [(ONE - p, s) for p, s in asks],
                                                [(ONE - p, s) for p, s in bids])):
            snapshots.append(msgspec.json.encode({
                "market": market, "asset_id": token, "timestamp": "1790658661234",
                "hash": rng.randbytes(20).hex(), "event_type": "book", "tick_size": "0.01",
                "bids": [{"price": format_micro(p), "size": format_micro(s)} for p, s in b],
                "asks": [{"price": format_micro(p), "size": format_micro(s)} for p, s in a],
            }))
    frames = []
    for i in range(N_FRAMES):
        market, yes, no = markets[rng.randrange(N_MARKETS)]
        book = books[market]
        is_bid = rng.random() < 0.5
        tick = rng.randint(30, 49) if is_bid else rng.randint(51, 70)
        size = 0 if rng.random() < 0.2 else rng.randint(1, 10**9) * 10_000
        book.set_level(is_bid, tick * TICK, size)
        yes_bid, yes_ask = _best(book)
        no_bid = format_micro(ONE - book.best_ask) if book.best_ask else "0"
        no_ask = format_micro(ONE - book.best_bid) if book.best_bid else "1"
        price, mirror, text = tick * TICK, ONE - tick * TICK, format_micro(size)
        frames.append(msgspec.json.encode({
            "market": market,
            "price_changes": [
                {"asset_id": yes, "price": format_micro(price), "size": text,
                 "side": "BUY" if is_bid else "SELL", "hash": rng.randbytes(20).hex(),
                 "best_bid": yes_bid, "best_ask": yes_ask},
                {"asset_id": no, "price": format_micro(mirror), "size": text,
                 "side": "SELL" if is_bid else "BUY", "hash": rng.randbytes(20).hex(),
                 "best_bid": no_bid, "best_ask": no_ask},
            ],
            "timestamp": str(1790658661234 + i), "event_type": "price_change",
        }))
    return snapshots, frames


def run() -> tuple[float, int]:
    """Return (frames per second, desyncs seen: must be 0)."""
    snapshots, frames = make_frames()
    desyncs = 0

    def loop() -> int:
        nonlocal desyncs
        parser, books = PolymarketParser(), BookSet()
        for frame in snapshots:
            for event in parser.market_frame(frame, 0):
                books.apply(event)
        parse, apply = parser.market_frame, books.apply
        for frame in frames:
            for event in parse(frame, 0):
                apply(event)
        desyncs = books.counters.desyncs
        return len(frames)

    return best_rate(loop, repeats=3), desyncs


if __name__ == "__main__":
    rate, desyncs = run()
    print(f"price_change decode + normalize + apply: {rate / 1e3:.0f}k frames/s "
          f"({desyncs} desyncs; {machine()})")
    sys.exit(0 if rate >= 250_000 and desyncs == 0 else 1)
