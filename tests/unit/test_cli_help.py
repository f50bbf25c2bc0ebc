"""`--help` as the console script shows it: prose reflowed to the terminal, examples kept."""

from __future__ import annotations

from typer.testing import CliRunner

from prediction_engine.cli import _reflow, _reflow_help, _register, app


def test_prose_is_joined_and_examples_toml_and_brackets_survive() -> None:
    doc = """First line
    of the summary.

    A paragraph wrapped
    by hand, with [brackets].
    Example: pengine x --y

        key = [1, 2]
        [table]

    - a bullet
      continued
    """
    assert _reflow(doc).split("\n\n") == [
        "First line of the summary.",
        "A paragraph wrapped by hand, with \\[brackets].\nExample: pengine x --y",
        "    key = [1, 2]\n    \\[table]",  # only what Rich would take for a tag is escaped
        "- a bullet\n  continued",
    ]


def test_sweep_help_shows_its_grid_example_whole() -> None:
    _register()
    _reflow_help(app)
    result = CliRunner().invoke(app, ["sweep", "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "a [strategy] table to one" in result.output  # not eaten as Rich markup
    assert "[updown_fade]" in result.output and "min_edge = [0.005, 0.01, 0.02]" in result.output
    assert "parameter grid in parallel; rank the runs." in result.output
