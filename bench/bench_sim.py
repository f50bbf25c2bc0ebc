"""Simulated Polymarket venue: market-channel frames per second delivered to one client.

Target (issue: simulator benchmark): the simulator sustains >= 20k frames/s to one WebSocket
client on loopback. The venue (`SimPolymarket`, seed 1, 50k updates/s requested so that
generation is the limit) runs in this process, paused until the client is subscribed; the
client runs in a second process (the machines have 2 cores), subscribes to every token with
the custom feature on and counts the text frames it receives for a fixed time from the
moment the venue resumes. Nothing is queued before counting starts, so no backlog inflates
the count. A run in which the venue cut the client off (it drops consumers whose queue
overflows) did not sustain its rate and does not count towards the target.

Also reported: the pure generation rate (`World.step()` frames per second in-process, no
encoding or network), which bounds what the venue can deliver, and the share of a core the
venue process got while the client counted (well below 100% means something else on the
machine competed for the core, or the venue sat idle waiting for the client).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import aiohttp

from common import machine
from prediction_engine.sim.polymarket import SimConfig, SimPolymarket
from prediction_engine.sim.polymarket.world import World

TARGET = 20_000
GENERATION_STEPS = 20_000
RECEIVE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Count:
    """What the client received while counting; `cut` if the venue closed the socket."""

    frames: int
    size: int
    seconds: float
    cut: bool


@dataclass(frozen=True)
class Delivery:
    """One client's receive rate and what it cost the venue process."""

    frames_per_s: float
    bytes_per_s: float
    venue_cpu_share: float
    cut: bool


def generation_rate(seed: int = 1) -> float:
    """Frames per second `World.step()` produces in-process (no encoding, no network)."""
    world = World(seed)
    frames = 0
    start = time.perf_counter()
    for _ in range(GENERATION_STEPS):
        frames += len(world.step())
    return frames / (time.perf_counter() - start)


async def _receive(url: str, assets: list[str], seconds: float, marks: Connection) -> Count:
    """Subscribe to `assets`, wait for the snapshot, send "ready" on `marks`, then count.

    The venue starts paused and resumes on "ready", so nothing is queued for this client
    before counting starts: what it receives is what the venue generated and sent meanwhile.
    """
    request = {"assets_ids": assets, "type": "market", "custom_feature_enabled": True}
    loop = asyncio.get_running_loop()
    frames = size = 0
    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
        await ws.send_str(json.dumps(request))
        text = await _text(ws)  # the snapshot array
        marks.send("ready")
        start = loop.time()
        while text is not None and loop.time() < start + seconds:
            text = await _text(ws)
            if text is not None:
                frames += 1
                size += len(text)
        return Count(frames, size, loop.time() - start, cut=text is None)


async def _text(ws: aiohttp.ClientWebSocketResponse) -> str | None:
    """The next text frame, or None once the venue has closed the connection."""
    message = await ws.receive(timeout=RECEIVE_TIMEOUT_S)
    if message.type == aiohttp.WSMsgType.TEXT:
        return str(message.data)
    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
        return None
    raise RuntimeError(f"venue sent an unexpected {message.type!r} frame")


def _client(url: str, assets: list[str], seconds: float, marks: Connection) -> None:
    """Client process: send "ready", then the `Count`, on `marks`."""
    marks.send(asyncio.run(_receive(url, assets, seconds, marks)))
    marks.close()


async def delivery(updates_per_second: float, seconds: float) -> Delivery:
    """Serve one client in another process while it counts; see `Delivery`."""
    config = SimConfig(seed=1, updates_per_second=updates_per_second, start_paused=True)
    context = multiprocessing.get_context("spawn")
    marks, client_end = context.Pipe(duplex=False)
    async with SimPolymarket(config) as sim:
        args = (sim.ws_market_url, sim.token_ids(), seconds, client_end)
        client = context.Process(target=_client, args=args)
        client.start()
        client_end.close()
        try:
            await asyncio.to_thread(marks.recv)  # "ready"
            sim.resume()
            cpu, wall = time.process_time(), time.perf_counter()
            count: Count = await asyncio.to_thread(marks.recv)
            cpu_share = (time.process_time() - cpu) / (time.perf_counter() - wall)
        finally:
            client.join(timeout=10)
    rate = count.frames / count.seconds if count.seconds > 0 else 0.0
    size_rate = count.size / count.seconds if count.seconds > 0 else 0.0
    return Delivery(rate, size_rate, cpu_share, count.cut)


def main() -> int:
    """Run the rounds, print a table, return the exit status (0 when the target is met)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates-per-second", type=float, default=50_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="counting time per run")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    print(
        f"simulator -> one WebSocket client on loopback ({machine()}, "
        f"{multiprocessing.cpu_count()} cores, {options.updates_per_second:,.0f} updates/s "
        f"requested); target >= {TARGET:,} frames/s received"
    )
    print(
        f"{'run':>3}  {'generated frames/s':>18}  {'received frames/s':>17}  "
        f"{'received MB/s':>13}  {'venue CPU':>9}  {'cut off':>7}"
    )
    best = 0.0
    for run in range(1, options.repeats + 1):
        generated = generation_rate()
        result = asyncio.run(delivery(options.updates_per_second, options.seconds))
        if not result.cut:
            best = max(best, result.frames_per_s)
        print(
            f"{run:>3}  {generated:>18,.0f}  {result.frames_per_s:>17,.0f}  "
            f"{result.bytes_per_s / 1e6:>13.2f}  {result.venue_cpu_share:>9.0%}  "
            f"{'yes' if result.cut else 'no':>7}"
        )
    verdict = "meets" if best >= TARGET else "MISSES"
    print(f"best sustained: {best:,.0f} frames/s received ({verdict} the {TARGET:,} target)")
    return 0 if best >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
