"""Command line: thin typer shells over library functions.

May import every package; holds no logic of its own beyond argument parsing and rendering.
"""

from __future__ import annotations

import inspect

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


def _reflow(doc: str) -> str:
    """A docstring as ``--help`` should show it: the hard-wrapped lines of each prose paragraph
    joined, so the terminal wraps them (Typer keeps single line breaks after the first
    paragraph); paragraphs with indented lines or list items (TOML, bullets) keep their lines,
    and an ``Example`` starts its own line. Square brackets are text, not Rich markup."""
    from rich.markup import escape

    def paragraph(text: str) -> str:
        lines = text.splitlines()
        if any(line.startswith((" ", "- ", "* ")) for line in lines):
            return text
        joined = [lines[0].strip()]
        for line in lines[1:]:
            if line.startswith("Example"):
                joined.append("\n" + line.strip())
            else:
                joined.append(" " + line.strip())
        return "".join(joined)

    return escape("\n\n".join(paragraph(p) for p in inspect.cleandoc(doc).split("\n\n")))


def _reflow_help(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        doc = info.help if info.help is not None else (info.callback and info.callback.__doc__)
        if doc:
            info.help = _reflow(doc)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


def main() -> None:
    """Entry point of the ``pengine`` console script."""
    _register()
    _reflow_help(app)
    app()
