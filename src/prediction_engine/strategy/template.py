"""The source of a new strategy module, as ``pengine new-strategy NAME`` writes it.

:data:`TEMPLATE` is a complete, runnable strategy (mean reversion in compact form) with the
placeholders ``{name}`` (registry name) and ``{class_name}``; literal braces in it are
doubled for :meth:`str.format`. :func:`render_template` checks the name and fills them in.
"""

from __future__ import annotations

import keyword
import re

from prediction_engine.strategy.registry import STRATEGIES, StrategyError

__all__ = ["TEMPLATE", "class_name_for", "render_template"]

TEMPLATE = '''\
"""{name}: a strategy of my own, written by `pengine new-strategy`.

Buys a token when its best ask drops well below the moving average of its mid, and sells held
shares when the best bid rises above it. Edit freely: the engine only needs the attributes
and the two methods of the class below. Run it on paper, set a parameter, list them:

    pengine paper --strategy ./{name}.py
    pengine paper --strategy ./{name}.py --param entry_edge=0.05
    pengine strategies --name ./{name}.py

Rules: no I/O, no clock (time is the event's or `view.now_ns`), no globals. Prices and sizes
are integer micro-units (1_000_000 = $1 or 1 share), times integer nanoseconds.
"""

import math
from collections.abc import Sequence
from typing import Annotated, ClassVar

import msgspec

from prediction_engine.core.events import BookDelta, BookSnapshot, Event, Side, TopOfBook
from prediction_engine.core.ids import TokenId
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.strategy.base import Intent, StateView, Subscriptions
from prediction_engine.strategy.sizing import Signal


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Tunable numbers (`--param KEY=VALUE` sets one); each needs a default."""

    half_life_s: Annotated[
        float, msgspec.Meta(gt=0, description="Half-life of the mid's moving average, seconds.")
    ] = 30.0
    entry_edge: Annotated[
        float, msgspec.Meta(gt=0, lt=1, description="Buy when the ask is this far below it.")
    ] = 0.03
    exit_edge: Annotated[
        float, msgspec.Meta(ge=0, lt=1, description="Sell when the bid is this far above it.")
    ] = 0.0
    confidence: Annotated[
        float, msgspec.Meta(ge=0, le=1, description="Confidence of each signal (ranks them).")
    ] = 0.5
    warmup: Annotated[
        int, msgspec.Meta(ge=1, description="Book updates a token needs before trading.")
    ] = 20


class {class_name}:
    """Buy below the mid's moving average; sell held shares above it."""

    # The strategy's name: shown by `pengine strategies`, in telemetry and order attribution.
    name: ClassVar[str] = "{name}"
    summary: ClassVar[str] = "Mean reversion on the mid (my copy of the template)."
    params_type: ClassVar[type[Params]] = Params

    def __init__(self, params: Params | None = None, *, id: str | None = None) -> None:
        self.params = params or Params()
        self._id = id or self.name
        # State built only from the events seen, so a replay rebuilds it exactly.
        self._average: dict[TokenId, float] = {{}}
        self._updates: dict[TokenId, int] = {{}}
        self._last_ns: dict[TokenId, int] = {{}}

    @property
    def id(self) -> str:
        """Instance name (tells two instances of this strategy apart)."""
        return self._id

    def subscriptions(self, markets: Sequence[Market]) -> Subscriptions:
        """Called as markets become known: return the tokens, markets and symbols you need."""
        return Subscriptions.for_markets(markets)

    def on_event(self, event: Event, view: StateView) -> Sequence[Intent]:
        """Called with each event you subscribed to: return intents (empty for none)."""
        if not isinstance(event, BookSnapshot | BookDelta | TopOfBook):
            return ()
        book = view.book(event.token)  # the book after the whole batch, or None
        if book is None or view.is_stale(event.token) or book.mid is None:
            return ()
        fair = self._update(event.token, book.mid / ONE, event.ts_recv)
        if self._updates[event.token] < self.params.warmup:
            return ()
        ask, bid = book.best_ask, book.best_bid
        if ask is not None and fair - ask / ONE >= self.params.entry_edge:
            return (self._signal(event, Side.BUY, fair - ask / ONE, fair),)
        held = view.shares(event.token)
        if held > 0 and bid is not None and bid / ONE - fair > self.params.exit_edge:
            return (self._signal(event, Side.SELL, bid / ONE - fair, fair),)
        return ()

    def _update(self, token: TokenId, mid: float, ts_ns: int) -> float:
        """Move the token's average toward `mid` by the weight of the time since the last."""
        if token not in self._average:
            self._average[token], self._updates[token] = mid, 0
        else:
            dt = max(ts_ns - self._last_ns[token], 0)
            alpha = 1.0 - math.pow(2.0, -dt / (self.params.half_life_s * 1e9))
            self._average[token] += alpha * (mid - self._average[token])
        self._updates[token] += 1
        self._last_ns[token] = ts_ns
        return self._average[token]

    def _signal(
        self, event: BookSnapshot | BookDelta | TopOfBook, side: Side, edge: float, fair: float
    ) -> Signal:
        # The engine sizes a Signal with half Kelly from fair_price (the chance the token
        # pays out) and takes it at the touch. Return an OrderIntent for full control.
        return Signal(
            market=event.market,
            token=event.token,
            side=side,
            edge=edge,
            confidence=self.params.confidence,
            fair_price=min(max(fair, 0.0), 1.0),
            strategy=self.id,
        )
'''
"""A strategy module's source with ``{name}`` and ``{class_name}`` placeholders."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def class_name_for(name: str) -> str:
    """``my_strategy`` -> ``MyStrategy``."""
    return "".join(part.capitalize() for part in name.split("_"))


def render_template(name: str) -> str:
    """Return the template for strategy ``name`` (snake_case, not a built-in's name).

    Raises :class:`~prediction_engine.strategy.registry.StrategyError` for a bad name.
    """
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise StrategyError(
            f"strategy name {name!r} must be a snake_case Python identifier "
            "(lower-case letters, digits, underscores; starting with a letter), e.g. my_strategy"
        )
    if name in STRATEGIES:
        raise StrategyError(f"{name!r} is a built-in strategy's name; choose another")
    return TEMPLATE.format(name=name, class_name=class_name_for(name))
