"""The registry (names, parameters, user files) and the ``strategies``/``new-strategy`` CLI."""

from __future__ import annotations

import typing
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

import prediction_engine.cli.strategies  # noqa: F401  (registers the commands on the app)
from prediction_engine.cli import app
from prediction_engine.core.events import Side
from prediction_engine.core.numbers import ONE
from prediction_engine.strategy.arbitrage import Arbitrage, ArbitrageParams
from prediction_engine.strategy.base import Strategy
from prediction_engine.strategy.mean_reversion import MeanReversion
from prediction_engine.strategy.registry import (
    STRATEGIES,
    ParamInfo,
    StrategyError,
    create,
    describe,
    load_strategy_file,
    parse_param,
    strategy_names,
)
from prediction_engine.strategy.sizing import Signal
from prediction_engine.strategy.template import TEMPLATE, render_template
from tests.strategy_view import FakeView, binary_market, book_event

BUILT_IN = ["arbitrage", "mean_reversion", "updown_fade", "updown_momentum", "updown_sniper"]


def test_the_five_built_ins_are_registered() -> None:
    assert strategy_names() == BUILT_IN
    assert STRATEGIES["arbitrage"] is Arbitrage


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_parameter_is_documented_frozen_and_strict(name: str) -> None:
    cls = STRATEGIES[name]
    config = cls.params_type.__struct_config__
    assert config.frozen
    assert config.forbid_unknown_fields
    assert all(info.description for info in describe(name))
    strategy = cls()
    assert (strategy.id, cls.name) == (name, name)


def test_describe_lists_names_types_defaults_and_descriptions() -> None:
    assert describe("arbitrage") == [
        ParamInfo(
            name="min_edge",
            type="float",
            default=0.005,
            description="Minimum profit per share of the set, in USD after taker fees "
            "(the set must cost at most 1 - min_edge).",
        ),
        ParamInfo(
            name="max_notional",
            type="float",
            default=50.0,
            description="Most USD to spend on one basket, all legs and fees together.",
        ),
        ParamInfo(
            name="max_levels",
            type="int",
            default=1,
            description="Ask levels per leg to take: 1 takes only the best ask; more walk "
            "deeper while the set still costs at most 1 - min_edge.",
        ),
    ]
    warmup = next(p for p in describe("mean_reversion") if p.name == "warmup")
    assert (warmup.type, warmup.default_text) == ("int", "20")


def test_create_converts_text_overrides_to_the_field_types() -> None:
    strategy = create("mean_reversion", {"entry_edge": "0.05", "warmup": "5"}, id="mr-fast")
    assert isinstance(strategy, MeanReversion)
    assert (strategy.params.entry_edge, strategy.params.warmup) == (0.05, 5)
    assert strategy.id == "mr-fast"
    default = create("arbitrage")
    assert isinstance(default, Arbitrage)
    assert default.params == ArbitrageParams()


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("arbitrag", {}, "unknown strategy 'arbitrag'; built-in: arbitrage, mean_reversion"),
        (
            "arbitrage",
            {"edge": "0.1"},
            "strategy 'arbitrage' has no parameter 'edge'; "
            "valid: min_edge, max_notional, max_levels",
        ),
        (
            "arbitrage",
            {"min_edge": "abc"},
            "strategy 'arbitrage': bad value 'abc' for parameter 'min_edge': Expected `float`",
        ),
        (
            "arbitrage",
            {"max_notional": "-5"},
            "bad value '-5' for parameter 'max_notional': Expected `float` > 0.0",
        ),
        ("mean_reversion", {"warmup": "2.5"}, "bad value '2.5' for parameter 'warmup'"),
        ("./missing.py", {}, "strategy file missing.py not found"),
    ],
)
def test_create_errors_name_the_culprit(name: str, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(StrategyError) as info:
        create(name, overrides)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("arbitrage.min_edge=0.01", ("arbitrage", "min_edge", "0.01")),
        ("min_edge=0.01", ("", "min_edge", "0.01")),
        ("./mine.py.entry_edge = 0.05", ("./mine.py", "entry_edge", "0.05")),
    ],
)
def test_parse_param(text: str, parsed: tuple[str, str, str]) -> None:
    assert parse_param(text) == parsed


@pytest.mark.parametrize("text", ["min_edge", "min_edge=", "arbitrage.=1", "=1", "a.b-c=1"])
def test_parse_param_rejects_malformed_text(text: str) -> None:
    with pytest.raises(StrategyError, match=r"--param expects \[STRATEGY\.\]KEY=VALUE"):
        parse_param(text)


# -- user files ------------------------------------------------------------------------------


def test_the_rendered_template_is_a_working_strategy(tmp_path: Path) -> None:
    path = tmp_path / "dip_buyer.py"
    path.write_text(render_template("dip_buyer"))
    strategy: Strategy = create(f"{path}:DipBuyer", {"warmup": "1", "entry_edge": "0.01"})
    assert (type(strategy).__name__, strategy.id) == ("DipBuyer", "dip_buyer")
    assert_template_trades(strategy)


def assert_template_trades(strategy: Strategy) -> None:
    """Warm up on a 0.50 mid, then see a 0.46 ask: a BUY below the average."""
    view = FakeView()
    market = binary_market("tp")
    view.add_market(market)
    token = market.tokens[0]
    assert strategy.subscriptions([market]).tokens == set(market.tokens)
    view.set_book(token, bids=[(490_000, 10 * ONE)], asks=[(510_000, 10 * ONE)])
    assert strategy.on_event(book_event(view, token, 0), view) == ()
    view.set_book(token, bids=[(400_000, 10 * ONE)], asks=[(460_000, 10 * ONE)])
    (signal,) = strategy.on_event(book_event(view, token, 0), view)  # same instant: avg 0.50
    assert isinstance(signal, Signal)
    assert (signal.side, signal.token, signal.fair_price) == (Side.BUY, token, 0.5)
    assert signal.edge == pytest.approx(0.04)


def test_template_placeholders_are_the_only_braces() -> None:
    source = render_template("my_strategy")
    assert "class MyStrategy:" in source
    assert 'name: ClassVar[str] = "my_strategy"' in source
    assert "{name}" in TEMPLATE
    assert "self._average: dict[TokenId, float] = {}" in source
    compile(source, "my_strategy.py", "exec")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("MyStrategy", "snake_case"),
        ("2fast", "snake_case"),
        ("my-strategy", "snake_case"),
        ("class", "snake_case"),
        ("arbitrage", "built-in strategy's name"),
    ],
)
def test_template_names_must_be_snake_case_and_new(name: str, message: str) -> None:
    with pytest.raises(StrategyError, match=message):
        render_template(name)


def test_load_strategy_file_explains_what_is_wrong(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def oops(:\n")
    with pytest.raises(StrategyError, match=r"cannot import .*broken\.py: SyntaxError"):
        load_strategy_file(broken)
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n")
    with pytest.raises(StrategyError, match=r"exactly one strategy class .* found none"):
        load_strategy_file(empty)
    two = tmp_path / "two.py"
    two.write_text(render_template("first") + render_template("second").split('"""', 2)[2])
    with pytest.raises(StrategyError, match="found First, Second; pick one with"):
        load_strategy_file(two)
    assert load_strategy_file(two, "Second").name == "second"
    with pytest.raises(StrategyError, match="has no strategy class 'Third'"):
        load_strategy_file(two, "Third")


def test_a_parameter_without_default_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nodefault.py"
    path.write_text(render_template("nodefault").replace("] = 20\n", "]\n"))
    with pytest.raises(StrategyError, match="every parameter of Params needs a default"):
        load_strategy_file(path)


def test_msgspec_meta_descriptions_survive_the_user_module(tmp_path: Path) -> None:
    path = tmp_path / "described.py"
    path.write_text(render_template("described"))
    params = load_strategy_file(path).params_type
    hints = typing.get_type_hints(params, include_extras=True)
    assert isinstance(typing.get_args(hints["warmup"])[1], msgspec.Meta)
    assert describe(str(path))[-1].description == "Book updates a token needs before trading."


# -- CLI -------------------------------------------------------------------------------------


def invoke(*args: str) -> typing.Any:
    return CliRunner().invoke(app, list(args))


def test_strategies_lists_every_strategy_and_parameter() -> None:
    result = invoke("strategies")
    assert result.exit_code == 0, result.output
    for name in BUILT_IN:
        assert name in result.output
    assert "min_edge" in result.output
    assert "0.005" in result.output
    assert "--param STRATEGY.KEY=VALUE" in result.output


def test_strategies_name_shows_one_or_explains() -> None:
    result = invoke("strategies", "--name", "updown_sniper")
    assert result.exit_code == 0, result.output
    assert "min_probability" in result.output
    assert "arbitrage" not in result.output.split("Set a parameter")[0]
    result = invoke("strategies", "--name", "nope")
    assert result.exit_code == 2
    assert "unknown strategy 'nope'" in result.output


def test_new_strategy_writes_a_template_that_loads_and_trades(tmp_path: Path) -> None:
    path = tmp_path / "strategies" / "dip_buyer.py"
    result = invoke("new-strategy", "dip_buyer", "--out", str(path))
    assert result.exit_code == 0, result.output
    assert f"pengine paper --strategy {path}" in result.output
    assert path.read_text() == render_template("dip_buyer")
    strategy = create(str(path), {"warmup": "1", "entry_edge": "0.01"})
    assert strategy.name == "dip_buyer"
    assert_template_trades(strategy)
    listed = invoke("strategies", "--name", str(path))
    assert listed.exit_code == 0, listed.output
    assert "entry_edge" in listed.output


def test_new_strategy_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text("# my work\n")
    result = invoke("new-strategy", "mine", "--out", str(path))
    assert result.exit_code == 2
    assert "already exists; pass --force" in result.output
    assert path.read_text() == "# my work\n"
    assert invoke("new-strategy", "mine", "--out", str(path), "--force").exit_code == 0
    assert "class Mine:" in path.read_text()


def test_new_strategy_defaults_to_name_py_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("new-strategy", "here_now")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "here_now.py").is_file()
    assert "pengine paper --strategy ./here_now.py" in result.output


def test_new_strategy_rejects_a_bad_name(tmp_path: Path) -> None:
    result = invoke("new-strategy", "My-Strategy", "--out", str(tmp_path / "x.py"))
    assert result.exit_code == 2
    assert "snake_case" in result.output
    assert not (tmp_path / "x.py").exists()
