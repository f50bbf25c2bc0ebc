"""The strategy registry: names to classes, parameters from the command line, user files.

Every strategy class carries ``name`` (registry key), ``summary`` (one line), ``params_type``
(a frozen msgspec struct whose fields all have defaults, documented with
``Annotated[float, msgspec.Meta(description=...)]``) and is built as
``Strategy(params, id=...)``. :func:`create` builds one from a registry name or a Python file
(``./mine.py`` or ``./mine.py:MyStrategy``) and text overrides (``--param key=value``),
converting each value to its field's type; every mistake raises :class:`StrategyError` naming
the strategy, the parameter and what is valid.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any, Protocol, cast

import msgspec

from prediction_engine.strategy.arbitrage import Arbitrage
from prediction_engine.strategy.base import Strategy
from prediction_engine.strategy.mean_reversion import MeanReversion
from prediction_engine.strategy.updown import DistanceFade, Momentum, SettlementSniper

__all__ = [
    "STRATEGIES",
    "ParamInfo",
    "StrategyError",
    "StrategyFactory",
    "build_strategies",
    "create",
    "describe",
    "load_strategy_file",
    "parse_param",
    "resolve",
    "strategy_names",
    "summary_of",
]


class StrategyError(Exception):
    """A strategy name, parameter or file that cannot be used: fix the command line or file."""


class StrategyFactory(Protocol):
    """A strategy class: its registry name, its parameter struct and its constructor."""

    @property
    def name(self) -> str:
        """Registry name."""
        ...

    @property
    def params_type(self) -> type[msgspec.Struct]:
        """The frozen struct of the constructor's parameters (all with defaults)."""
        ...

    def __call__(self, params: Any = None, *, id: str | None = None) -> Strategy:
        """Build the strategy (``params=None``: every default)."""
        ...


_BUILT_IN: tuple[StrategyFactory, ...] = (
    Arbitrage,
    MeanReversion,
    DistanceFade,
    Momentum,
    SettlementSniper,
)
STRATEGIES: Mapping[str, StrategyFactory] = MappingProxyType({cls.name: cls for cls in _BUILT_IN})
"""The built-in strategies by registry name."""


class ParamInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One parameter of a strategy: as ``pengine strategies`` shows it."""

    name: str
    type: str
    default: object
    description: str = ""

    @property
    def default_text(self) -> str:
        """The default as it would be typed on the command line (``0.005``, ``true``)."""
        if isinstance(self.default, str):
            return self.default
        return msgspec.json.encode(self.default).decode()


def strategy_names() -> list[str]:
    """Return the registry names of the built-in strategies."""
    return list(STRATEGIES)


def summary_of(cls: StrategyFactory) -> str:
    """The class's one-line ``summary``, else the first line of its docstring."""
    summary = getattr(cls, "summary", None)
    if isinstance(summary, str) and summary:
        return summary
    return (cls.__doc__ or "").strip().partition("\n")[0]


def _type_name(annotation: object) -> str:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return getattr(annotation, "__name__", None) or str(annotation)


def _description(annotation: object) -> str:
    for meta in typing.get_args(annotation)[1:]:
        if isinstance(meta, msgspec.Meta) and meta.description:
            return meta.description
    return ""


def _params_info(params_type: type[msgspec.Struct]) -> list[ParamInfo]:
    defaults = params_type()
    return [
        ParamInfo(
            name=field.name,
            type=_type_name(field.type),
            default=getattr(defaults, field.name),
            description=_description(field.type),
        )
        for field in msgspec.structs.fields(params_type)
    ]


def describe(name: str) -> list[ParamInfo]:
    """Return the parameters of strategy ``name`` (a registry name or a file) with defaults."""
    return _params_info(resolve(name).params_type)


def resolve(name: str) -> StrategyFactory:
    """Return the class of ``name``: a registry name, ``path.py`` or ``path.py:ClassName``."""
    if name in STRATEGIES:
        return STRATEGIES[name]
    if ".py:" in name:
        path, _, class_name = name.rpartition(":")
        return load_strategy_file(path, class_name)
    if name.endswith(".py"):
        return load_strategy_file(name)
    raise StrategyError(
        f"unknown strategy {name!r}; built-in: {', '.join(STRATEGIES)}, "
        "or give a Python file (./mine.py or ./mine.py:ClassName)"
    )


def _reason(error: msgspec.ValidationError) -> str:
    return str(error).partition(" - at `$")[0]


def _params(
    label: str, params_type: type[msgspec.Struct], overrides: Mapping[str, str]
) -> msgspec.Struct:
    """Convert text overrides to ``params_type``, naming the first value that does not fit."""
    valid = ", ".join(field.name for field in msgspec.structs.fields(params_type)) or "(none)"
    for key, value in overrides.items():
        if key not in params_type.__struct_fields__:
            raise StrategyError(f"strategy {label!r} has no parameter {key!r}; valid: {valid}")
        try:
            msgspec.convert({key: value}, params_type, strict=False)
        except msgspec.ValidationError as e:
            raise StrategyError(
                f"strategy {label!r}: bad value {value!r} for parameter {key!r}: {_reason(e)}"
            ) from e
    try:
        return msgspec.convert(dict(overrides), params_type, strict=False)
    except msgspec.ValidationError as e:  # a check across fields, in the struct's __post_init__
        raise StrategyError(f"strategy {label!r}: {_reason(e)}") from e


def create(
    name: str, overrides: Mapping[str, str] | None = None, id: str | None = None
) -> Strategy:
    """Build strategy ``name`` with its defaults and the text ``overrides`` (``key -> value``).

    ``name`` is a registry name or a file (``./mine.py``, ``./mine.py:ClassName``). Raises
    :class:`StrategyError` for an unknown strategy or parameter, or a value that does not
    convert to the parameter's type and range.
    """
    cls = resolve(name)
    return cls(_params(cls.name, cls.params_type, overrides or {}), id=id)


def parse_param(text: str) -> tuple[str, str, str]:
    """Split a ``--param`` value ``[strategy.]key=value`` into (strategy or "", key, value)."""
    target, sep, value = text.partition("=")
    strategy, _, key = target.strip().rpartition(".")
    if not sep or not key.isidentifier() or not value.strip():
        raise StrategyError(
            f"--param expects [STRATEGY.]KEY=VALUE (e.g. arbitrage.min_edge=0.01 or "
            f"min_edge=0.01), got {text!r}"
        )
    return strategy, key, value.strip()


def _import(path: Path) -> ModuleType:
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    module_name = f"pengine_user_strategy_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise StrategyError(f"cannot import {path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered before running it: msgspec resolves the module's annotations through it.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # the user's code: any failure is theirs to fix
        del sys.modules[module_name]
        raise StrategyError(f"cannot import {path}: {type(e).__name__}: {e}") from e
    return module


def _is_strategy(obj: object) -> bool:
    return (
        isinstance(obj, type)
        and isinstance(getattr(obj, "name", None), str)
        and isinstance(getattr(obj, "params_type", None), type)
    )


def _pick(path: Path, module: ModuleType, class_name: str | None) -> type:
    if class_name is not None:
        found = getattr(module, class_name, None)
        if not _is_strategy(found):
            raise StrategyError(
                f"{path} has no strategy class {class_name!r} "
                "(a class with `name` and `params_type` attributes)"
            )
        return cast(type, found)
    own = [
        obj
        for obj in vars(module).values()
        if _is_strategy(obj) and getattr(obj, "__module__", None) == module.__name__
    ]
    if len(own) != 1:
        names = ", ".join(cls.__name__ for cls in own) or "none"
        raise StrategyError(
            f"{path} must define exactly one strategy class (with `name` and `params_type`), "
            f"found {names}; pick one with {path}:ClassName"
        )
    return cast(type, own[0])


def _check(path: Path, cls: type) -> StrategyFactory:
    params_type = cls.params_type  # type: ignore[attr-defined]
    if not issubclass(params_type, msgspec.Struct):
        raise StrategyError(f"{path}: {cls.__name__}.params_type must be a msgspec.Struct")
    try:
        params_type()
    except TypeError as e:
        raise StrategyError(
            f"{path}: every parameter of {params_type.__name__} needs a default ({e})"
        ) from e
    for method in ("subscriptions", "on_event"):
        if not callable(getattr(cls, method, None)):
            raise StrategyError(f"{path}: {cls.__name__} has no {method}() method")
    return cast(StrategyFactory, cls)


def load_strategy_file(path: str | Path, class_name: str | None = None) -> StrategyFactory:
    """Import a Python file and return its strategy class (``class_name``, or the only one).

    A strategy class has ``name`` and ``params_type`` attributes (see the template written by
    ``pengine new-strategy``). Raises :class:`StrategyError` when the file is missing, fails
    to import, or holds no (or several) such classes.
    """
    path = Path(path)
    if not path.is_file():
        raise StrategyError(f"strategy file {path} not found")
    module = _import(path.resolve())
    return _check(path, _pick(path, module, class_name))


def build_strategies(names: Sequence[str], params: Sequence[str]) -> list[Strategy]:
    """Create ``names`` with ``params`` (``[strategy.]key=value``) applied.

    ``strategy`` is a chosen name, a strategy file's stem (``dip_buyer`` for
    ``./dip_buyer.py``) or its class's registry name. A key without a strategy applies to every
    chosen strategy that has such a parameter (and must fit at least one). Raises
    :class:`StrategyError` with what to fix.
    """
    if not names:
        raise StrategyError("choose at least one strategy (see `pengine strategies`)")
    ids = _ids(names)
    aliases: dict[str, int] = {}
    for i, name in enumerate(names):
        for alias in (name, ids[i], resolve(name).name):
            aliases.setdefault(alias, i)
    overrides: list[dict[str, str]] = [{} for _ in names]
    for text in params:
        target, key, value = parse_param(text)
        if target:
            if target not in aliases:
                chosen = ", ".join(ids)
                raise StrategyError(f"--param {text!r} names {target!r}; chosen: {chosen}")
            overrides[aliases[target]][key] = value
            continue
        fits = [i for i, n in enumerate(names) if any(p.name == key for p in describe(n))]
        if not fits:
            raise StrategyError(f"--param {text!r}: no chosen strategy has a parameter {key!r}")
        for i in fits:
            overrides[i][key] = value
    return [create(name, overrides[i], id=ids[i]) for i, name in enumerate(names)]


def _ids(names: Sequence[str]) -> list[str]:
    base = [Path(n.split(":")[0]).stem if n.endswith(".py") or ".py:" in n else n for n in names]
    return [b if base.count(b) == 1 else f"{b}-{i + 1}" for i, b in enumerate(base)]
