"""Command line: thin typer shells over library functions.

May import every package; holds no logic of its own beyond argument parsing and rendering.
"""

from __future__ import annotations

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="pengine",
    help="Trade and research prediction markets: discover markets, stream exact order books, "
    "decode and replay venue frames.",
    no_args_is_help=True,
    add_completion=False,
)


def _register() -> None:
    # Sub-command modules register themselves on import; imported here to keep start-up lazy
    # in one place.
    from prediction_engine.cli import (  # noqa: F401
        backtest,
        dashboard,
        data,
        decode,
        demo,
        fee,
        journal,
        markets,
        record,
        report,
        sim,
        strategies,
        trade,
        watch,
    )


def main() -> None:
    """Entry point of the ``pengine`` console script."""
    _register()
    app()
