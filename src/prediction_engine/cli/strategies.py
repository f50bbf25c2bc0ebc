"""``pengine strategies`` and ``pengine new-strategy``: what can run, and a file to start from.

Thin shell over :mod:`prediction_engine.strategy.registry` and
:mod:`prediction_engine.strategy.template`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from prediction_engine.cli import app
from prediction_engine.strategy.registry import (
    STRATEGIES,
    StrategyError,
    describe,
    resolve,
    summary_of,
)
from prediction_engine.strategy.template import class_name_for, render_template

__all__ = ["new_strategy", "strategies"]


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _add_strategy(table: Table, name: str) -> None:
    cls = resolve(name)
    table.add_row(f"[bold]{cls.name}[/]", "", "", summary_of(cls))
    for param in describe(name):
        table.add_row("", param.name, f"{param.default_text} ({param.type})", param.description)
    table.add_section()


@app.command()
def strategies(
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            "-n",
            help="Show one strategy: a built-in name, or your file (./mine.py or "
            "./mine.py:ClassName) to check that it loads.",
        ),
    ] = None,
) -> None:
    """List the strategies you can run, with each parameter's default and meaning.

    Set a parameter when running one: --param STRATEGY.KEY=VALUE (e.g. arbitrage.min_edge=0.01)
    Check that your own file loads: pengine strategies --name ./my_strategy.py
    Start your own: pengine new-strategy my_strategy
    """
    table = Table(title="Strategies", show_lines=False)
    for column in ("strategy", "parameter", "default (type)", "description"):
        table.add_column(column, overflow="fold")
    try:
        for item in [name] if name is not None else list(STRATEGIES):
            _add_strategy(table, item)
    except StrategyError as e:
        _fail(str(e))
    console = Console()
    console.print(table)
    console.print(
        "Set a parameter: --param STRATEGY.KEY=VALUE (e.g. arbitrage.min_edge=0.01). "
        "Start your own: pengine new-strategy my_strategy",
        highlight=False,
    )


def _shown(path: Path) -> str:
    """``x.py`` -> ``./x.py``: a path that reads as a file, not a registry name."""
    text = str(path)
    return text if path.is_absolute() or text.startswith(".") else f"./{text}"


@app.command("new-strategy")
def new_strategy(
    name: Annotated[
        str,
        typer.Argument(
            help="Registry name of the new strategy: snake_case (e.g. my_strategy). The class "
            "is its CamelCase (MyStrategy)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Where to write the file. Default: ./NAME.py", dir_okay=False
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the file if it already exists.")
    ] = False,
) -> None:
    """Write a complete, commented strategy file to start from (a mean-reversion example).

    The file runs as written: pengine paper --strategy ./NAME.py
    Its Params struct holds the tunable numbers (set one with --param KEY=VALUE);
    subscriptions() says which markets and feeds it needs; on_event() turns events into signals.
    """
    try:
        source = render_template(name)
    except StrategyError as e:
        _fail(str(e))
    path = out if out is not None else Path(f"{name}.py")
    if path.exists() and not force:
        _fail(f"{path} already exists; pass --force to overwrite it, or --out to write elsewhere")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    shown = _shown(path)
    typer.echo(f"wrote {shown}: strategy {name!r}, class {class_name_for(name)}")
    typer.echo(f"  check it loads:  pengine strategies --name {shown}")
    typer.echo(f"  run it on paper: pengine paper --strategy {shown}")
    typer.echo(f"  tune it:         pengine paper --strategy {shown} --param entry_edge=0.05")
