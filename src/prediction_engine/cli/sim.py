"""``pengine sim``: serve the local venues; ``pengine sim generate``: write a world to a tape."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.progress import Progress
from rich.table import Table

from prediction_engine.cli import app
from prediction_engine.sim.generate import generate_tape
from prediction_engine.sim.polymarket import SimConfig, SimPolymarket
from prediction_engine.sim.polymarket.faults import FaultPlan
from prediction_engine.sim.polymarket.venue import LocalVenue
from prediction_engine.sim.polymarket.world import DEFAULT_CLOCK_START_S, WorldSpec
from prediction_engine.tape import TapeError

sim_app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(sim_app, name="sim")

_FAULTS = "Faults"
_WORLD = "World"


def _minutes(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or any(v <= 0 for v in values):
        raise typer.BadParameter("a comma-separated list of positive minutes, e.g. 1,5,15")
    return values


def _assets(text: str) -> tuple[str, ...]:
    assets = tuple(a.strip().lower() for a in text.split(",") if a.strip())
    unknown = [a for a in assets if a not in ("btc", "eth", "sol", "xrp")]
    if not assets or unknown:
        raise typer.BadParameter("a comma-separated list of btc, eth, sol, xrp")
    return assets


def _counters_table(counters: dict[str, int], started: float) -> Table:
    table = Table(title=f"pengine sim (up {time.monotonic() - started:.0f} s, Ctrl-C to stop)")
    table.add_column("counter")
    table.add_column("value", justify="right")
    for key in sorted(counters):
        table.add_row(key, f"{counters[key]:,}")
    return table


def _exports(console: Console, venue: LocalVenue) -> None:
    """The variables that point every pengine command at `venue`."""
    for name, url in venue.env().items():
        console.print(f"  export {name}={url}", highlight=False, soft_wrap=True)


async def _serve(config: SimConfig, port: int, feeds_port: int, console: Console) -> None:
    sim = SimPolymarket(config)
    await sim.start(port=port, feeds_port=feeds_port)
    try:
        console.print("[bold]Simulated Polymarket on 127.0.0.1[/] — point pengine at it with:")
        _exports(console, sim)
        described = config.faults.describe()
        console.print("[bold]faults:[/] " + ("; ".join(described) if described else "none"))
        started = time.monotonic()
        with Live(console=console, refresh_per_second=2) as live:
            while True:
                live.update(_counters_table(sim.counters, started))
                await asyncio.sleep(0.5)
    finally:
        await sim.stop()


async def _serve_replay(  # noqa: PLR0917
    tape: Path, speed: float | None, loop: bool, wait: bool, port: int, console: Console
) -> None:
    from prediction_engine.sim.polymarket.replay import ReplayVenue

    venue = ReplayVenue(tape, speed=speed, loop=loop, start_paused=wait)
    await venue.start(port=port)
    try:
        pace = "max" if speed is None else f"{speed:g}x"
        console.print(f"[bold]Replaying {tape}[/] at {pace} speed")
        _exports(console, venue)
        if wait:
            console.print("waiting for the first client to connect before playing...")
            while not venue.counters.get("connections"):  # noqa: ASYNC110 (no event to await)
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # let it subscribe and get its snapshots first
            venue.resume()
        started = time.monotonic()
        with Live(console=console, refresh_per_second=2) as live:
            while not (venue.finished.is_set() and not loop):
                live.update(_counters_table(venue.counters, started))
                await asyncio.sleep(0.5)
            live.update(_counters_table(venue.counters, started))
        console.print("tape finished; still serving books and discovery (Ctrl-C to stop)")
        await asyncio.Event().wait()
    finally:
        await venue.stop()


@sim_app.callback()
def sim(  # noqa: PLR0917 (one option per knob, as typer wants)
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same world.")] = 0,
    port: Annotated[int, typer.Option(help="Port of Gamma + CLOB + market WebSocket.")] = 8900,
    feeds_port: Annotated[int, typer.Option(help="Port of the Binance and RTDS feeds.")] = 8901,
    rate: Annotated[float, typer.Option(help="Book updates per second.", min=0.1)] = 100.0,
    updown_minutes: Annotated[str, typer.Option(
        help="Up/Down window lengths in minutes, e.g. 1,5,15.", rich_help_panel=_WORLD
    )] = "5,15",
    assets: Annotated[str, typer.Option(help="Up/Down assets, e.g. btc,eth.",
        rich_help_panel=_WORLD)] = "btc,eth",
    arb_every: Annotated[float, typer.Option(
        help="Mean seconds between neg-risk arbitrage episodes (0 = none).", rich_help_panel=_WORLD
    )] = 30.0,
    listing_every: Annotated[float, typer.Option(
        help="Mean seconds between a new listing and a resolution (0 = none).",
        rich_help_panel=_WORLD,
    )] = 60.0,
    fixed_clock: Annotated[bool, typer.Option(
        help="Start the simulated clock at a fixed date (fully reproducible timestamps) "
        "instead of now.", rich_help_panel=_WORLD
    )] = False,
    drop_every: Annotated[float, typer.Option(
        help="Abort every WebSocket this often (s).", rich_help_panel=_FAULTS)] = 0.0,
    stall_every: Annotated[float, typer.Option(
        help="Stall the feeds this often (s): sockets open, nothing sent.", rich_help_panel=_FAULTS
    )] = 0.0,
    stall_for: Annotated[float, typer.Option(
        help="Length of each stall (s).", rich_help_panel=_FAULTS)] = 3.0,
    delay_ms: Annotated[float, typer.Option(
        help="Deliver every WebSocket frame this late.", rich_help_panel=_FAULTS)] = 0.0,
    duplicate: Annotated[float, typer.Option(
        help="Probability a frame is sent twice.", rich_help_panel=_FAULTS)] = 0.0,
    reorder: Annotated[float, typer.Option(
        help="Probability a frame swaps with the next.", rich_help_panel=_FAULTS)] = 0.0,
    malformed: Annotated[float, typer.Option(
        help="Probability a broken frame is inserted.", rich_help_panel=_FAULTS)] = 0.0,
    http_errors: Annotated[float, typer.Option(
        help="Probability an HTTP request gets 429 or 503.", rich_help_panel=_FAULTS)] = 0.0,
    tick_change_every: Annotated[float, typer.Option(
        help="Change a market's tick size this often (s).", rich_help_panel=_FAULTS)] = 0.0,
    replay: Annotated[Path | None, typer.Option(
        help="Serve this tape (or plain capture) instead of a random world.",
        rich_help_panel="Replay",
    )] = None,
    speed: Annotated[float, typer.Option(
        help="Replay speed: 1 = as recorded, 10 = ten times faster, 0 = as fast as possible.",
        rich_help_panel="Replay",
    )] = 1.0,
    loop: Annotated[bool, typer.Option(help="Replay the tape again and again.",
                                       rich_help_panel="Replay")] = False,
    wait: Annotated[bool, typer.Option(
        help="Start playing when the first client connects.", rich_help_panel="Replay"
    )] = True,
) -> None:
    """Serve a simulated Polymarket (Gamma, CLOB REST, market WebSocket) and Binance/RTDS
    price feeds on 127.0.0.1 until Ctrl-C, optionally with injected faults.

    The world: binary markets whose fair value walks and jumps, makers and takers, a neg-risk
    event whose asks sometimes sum below 1, and crypto Up/Down windows priced off the GBM
    price the feeds publish, resolving and rolling every window. Examples:

      pengine sim --updown-minutes 1 --drop-every 30 --malformed 0.01

      pengine sim --replay demo-output/.../tape.jsonl.gz --speed 10
    """
    if ctx.invoked_subcommand is not None:
        return
    console = Console()
    try:
        faults = FaultPlan(
            drop_every_s=drop_every, stall_every_s=stall_every, stall_s=stall_for,
            delay_s=delay_ms / 1000, duplicate=duplicate, reorder=reorder, malformed=malformed,
            http_error_rate=http_errors, tick_change_every_s=tick_change_every,
        )
        config = SimConfig(
            seed=seed, updates_per_second=rate,
            clock_start_s=DEFAULT_CLOCK_START_S if fixed_clock else int(time.time()),
            updown_minutes=_minutes(updown_minutes), updown_assets=_assets(assets),
            arb_every_s=arb_every, listing_every_s=listing_every, faults=faults,
        )
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    try:
        if replay is not None:
            asyncio.run(_serve_replay(replay, speed or None, loop, wait, port, console))
        else:
            asyncio.run(_serve(config, port, feeds_port, console))
    except KeyboardInterrupt:
        pass
    except TapeError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    except OSError as e:
        typer.echo(f"error: cannot listen: {e} (another pengine sim running? try --port)", err=True)
        raise typer.Exit(2) from e


@sim_app.command()
def generate(  # noqa: PLR0917 (typer options)
    out: Annotated[Path, typer.Argument(help="Tape to write, e.g. world.jsonl.gz (new file).")],
    duration: Annotated[float, typer.Option(help="Simulated seconds.", min=0.001)] = 600.0,
    seed: Annotated[int, typer.Option(help="Seed of the world.")] = 0,
    rate: Annotated[float, typer.Option(help="Book updates per simulated second.", min=0.1)] = 100,
    updown_minutes: Annotated[str, typer.Option(help="Up/Down window lengths, minutes.")] = "5,15",
    arb_every: Annotated[float, typer.Option(help="Mean seconds between arbitrages.")] = 30.0,
    listing_every: Annotated[float, typer.Option(help="Mean seconds between listings.")] = 60.0,
) -> None:
    """Write a simulated world to a tape offline, in simulated time (fast, no sockets).

    The same seed and options give the same frames byte for byte; use it for test and
    benchmark data. Example: pengine sim generate data/world.jsonl.gz --duration 3600
    """
    spec = WorldSpec(
        step_ms=max(1, round(1000 / rate)), updown_minutes=_minutes(updown_minutes),
        arb_every_s=arb_every, listing_every_s=listing_every,
    )
    console = Console()
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"generating {duration:g} s", total=1.0)
            result = generate_tape(
                out, seed=seed, duration_s=duration, spec=spec,
                on_progress=lambda done: progress.update(task, completed=done),
            )
    except (FileExistsError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    console.print(
        f"wrote {result.path}: {result.market_frames:,} market frames and "
        f"{result.reference_frames:,} reference frames over {duration:g} simulated seconds "
        f"({result.steps:,} steps)"
    )
