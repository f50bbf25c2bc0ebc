"""Crypto Up/Down window strategies: price the window from the reference feed, trade the gap.

An Up/Down market pays "Up" (``tokens[0]``) when the reference price at the window's end is at
or above the strike (the first price at or after its start), else "Down" (``tokens[1]``).
Thresholds are fractions of the strike, so one parameter set fits BTC and XRP alike.

The shared model: over the time left ``t`` the log price moves like Brownian motion with
annual volatility ``sigma`` (crypto trades all year: a year is 365 days), so::

    P(Up) = Phi(ln(S / K) / (sigma * sqrt(t / year)))

Each strategy trades a market only while its window runs (started, not ended), its strike is
known and the reference feed and books are fresh. Once the window has ended it returns one
``CancelOrders`` for the market (clean-up of anything still resting) and forgets it. Checks
run on each book event of the market and on each reference price of its symbol.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from statistics import NormalDist
from typing import Annotated, ClassVar, NamedTuple

import msgspec

from prediction_engine.core.events import Event, ReferencePrice, Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.updown import UpDownWindow, window_of
from prediction_engine.strategy.base import CancelOrders, Intent, StateView, Subscriptions
from prediction_engine.strategy.sizing import Signal

__all__ = [
    "DistanceFade",
    "DistanceFadeParams",
    "Momentum",
    "MomentumParams",
    "SettlementSniper",
    "SettlementSniperParams",
    "WindowState",
    "probability_up",
]

NS_PER_S = 1_000_000_000
YEAR_S = 365 * 24 * 3600
"""Seconds in the volatility's year (crypto trades every day)."""
_NORMAL = NormalDist()


def probability_up(price: float, strike: float, seconds_left: float, volatility: float) -> float:
    """Return P(price at the end >= strike) under the lognormal model (no drift)."""
    if seconds_left <= 0 or volatility <= 0:
        return 1.0 if price >= strike else 0.0
    return _NORMAL.cdf(math.log(price / strike) / (volatility * math.sqrt(seconds_left / YEAR_S)))


Confidence = Annotated[
    float, msgspec.Meta(description="Confidence attached to each signal (ranks them).", ge=0, le=1)
]
Volatility = Annotated[
    float,
    msgspec.Meta(
        description="Annualized volatility of the reference price (0.6 = 60%).", gt=0, le=20
    ),
]

MinTimeLeft = Annotated[
    float, msgspec.Meta(description="Stop trading this many seconds before the window ends.", ge=0)
]


class WindowState(NamedTuple):
    """What a strategy sees of one running window (floats: this is model math)."""

    window: UpDownWindow
    now_ns: int
    price: float
    strike: float
    seconds_left: float
    up_ask: int | None
    down_ask: int | None

    @property
    def distance(self) -> float:
        """``|S - K| / K``: how far the price is from the strike, as a fraction of it."""
        return abs(self.price - self.strike) / self.strike

    @property
    def up(self) -> TokenId:
        """The Up token (pays when the end price >= strike)."""
        return self.window.market.tokens[0]

    @property
    def down(self) -> TokenId:
        """The Down token."""
        return self.window.market.tokens[1]


def _ask(token: TokenId, view: StateView) -> int | None:
    book = view.book(token)
    if book is None or view.is_stale(token):
        return None
    return book.best_ask


class _WindowStrategy:
    """Shared plumbing: track windows, build :class:`WindowState`, clean up ended windows."""

    name: ClassVar[str]

    def __init__(self, id: str | None) -> None:
        self._id = id or self.name
        self._windows: dict[ConditionId, UpDownWindow] = {}
        self._by_symbol: dict[str, set[ConditionId]] = {}

    @property
    def id(self) -> str:
        """Instance name used in telemetry and order attribution."""
        return self._id

    def subscriptions(self, markets: Sequence[Market]) -> Subscriptions:
        """Each Up/Down market's tokens and lifecycle, and its reference symbol."""
        wanted: list[Market] = []
        for market in markets:
            window = window_of(market)
            if window is None or len(market.tokens) != 2:
                continue
            wanted.append(market)
            self._windows[market.condition_id] = window
            self._by_symbol.setdefault(window.symbol, set()).add(market.condition_id)
        symbols = {self._windows[m.condition_id].symbol for m in wanted}
        return Subscriptions.for_markets(wanted, symbols)

    def on_event(self, event: Event, view: StateView) -> Sequence[Intent]:
        """Re-price every window the event touches; cancel once in windows that ended."""
        self._observe(event)
        intents: list[Intent] = []
        for market in sorted(self._affected(event)):
            window = self._windows[market]
            if view.now_ns >= window.end_ns:
                intents.append(CancelOrders(market=market, reason=f"{self.id}: window ended"))
                self._forget(window)
                continue
            state = self._state(window, view)
            if state is not None:
                intents.extend(self._decide(state))
        return intents

    def _affected(self, event: Event) -> set[ConditionId]:
        if isinstance(event, ReferencePrice):
            return set(self._by_symbol.get(event.symbol.lower(), ()))
        market: ConditionId | None = getattr(event, "market", None)
        return {market} if market in self._windows else set()

    def _forget(self, window: UpDownWindow) -> None:
        market = window.market.condition_id
        del self._windows[market]
        self._by_symbol[window.symbol].discard(market)

    def _state(self, window: UpDownWindow, view: StateView) -> WindowState | None:
        """The running window's state, or ``None`` when it must not be traded now."""
        live = view.updown(window.market.condition_id) or window
        price = view.reference_price(live.symbol)
        if live.strike is None or live.strike <= 0 or price is None or price <= 0:
            return None
        if not live.started(view.now_ns) or view.is_symbol_stale(live.symbol):
            return None
        return WindowState(
            window=live,
            now_ns=view.now_ns,
            price=float(price),
            strike=float(live.strike),
            seconds_left=live.time_left_ns(view.now_ns) / NS_PER_S,
            up_ask=_ask(live.market.tokens[0], view),
            down_ask=_ask(live.market.tokens[1], view),
        )

    def _observe(self, event: Event) -> None:
        """Hook: record what the event says before windows are re-priced."""

    def _decide(self, state: WindowState) -> list[Signal]:
        """The signals of one running window (each strategy's own rule)."""
        raise NotImplementedError

    def _buy(
        self, state: WindowState, token: TokenId, fair: float, edge: float, confidence: float
    ) -> Signal:
        return Signal(
            market=state.window.market.condition_id,
            token=token,
            side=Side.BUY,
            edge=edge,
            confidence=confidence,
            fair_price=min(max(fair, 0.0), 1.0),
            strategy=self.id,
        )


class DistanceFadeParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of :class:`DistanceFade`."""

    annual_volatility: Volatility = 0.6
    min_edge: Annotated[
        float,
        msgspec.Meta(
            description="Buy when the model's probability exceeds the ask by this.", ge=0, lt=1
        ),
    ] = 0.03
    min_time_left_s: MinTimeLeft = 10.0
    min_distance: Annotated[
        float,
        msgspec.Meta(
            description="Trade only when |price - strike| / strike is at least this (0: always); "
            "near the strike the model is most sensitive to the volatility guess.",
            ge=0,
        ),
    ] = 0.0
    confidence: Confidence = 0.6


class DistanceFade(_WindowStrategy):
    """Buy the side the normal model prices above its ask (fade the book's mispricing)."""

    name: ClassVar[str] = "updown_fade"
    summary: ClassVar[str] = (
        "Up/Down: price P(Up) from the distance to the strike and the time left "
        "(normal model); buy the side whose ask is below it."
    )
    params_type: ClassVar[type[DistanceFadeParams]] = DistanceFadeParams

    def __init__(self, params: DistanceFadeParams | None = None, *, id: str | None = None) -> None:
        super().__init__(id)
        self.params = params or DistanceFadeParams()

    def _decide(self, state: WindowState) -> list[Signal]:
        p = self.params
        if state.seconds_left <= p.min_time_left_s or state.distance < p.min_distance:
            return []
        fair_up = probability_up(state.price, state.strike, state.seconds_left, p.annual_volatility)
        signals = []
        for token, fair, ask in (
            (state.up, fair_up, state.up_ask),
            (state.down, 1.0 - fair_up, state.down_ask),
        ):
            if ask is not None and fair - ask / ONE > p.min_edge:
                signals.append(self._buy(state, token, fair, fair - ask / ONE, p.confidence))
        return signals


class MomentumParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of :class:`Momentum`."""

    window_s: Annotated[
        float, msgspec.Meta(description="Seconds of reference trades to measure.", gt=0)
    ] = 10.0
    threshold: Annotated[
        float,
        msgspec.Meta(
            description="Buy Up above this buy/sell imbalance, Down below minus it.", ge=0, le=1
        ),
    ] = 0.3
    min_move: Annotated[
        float,
        msgspec.Meta(
            description="Also require the price to move this fraction of the strike the same way.",
            ge=0,
        ),
    ] = 0.0002
    min_trades: Annotated[
        int, msgspec.Meta(description="Trades the window needs before it counts.", ge=1)
    ] = 10
    edge_per_imbalance: Annotated[
        float,
        msgspec.Meta(
            description="Edge claimed per unit of imbalance (edge = this x |imbalance|).", ge=0
        ),
    ] = 0.1
    max_edge: Annotated[float, msgspec.Meta(description="Cap on the claimed edge.", ge=0, le=1)] = (
        0.05
    )
    min_time_left_s: MinTimeLeft = 10.0
    confidence: Confidence = 0.4


class _Print(NamedTuple):
    ts_ns: int
    price: float
    size: float
    buy: bool


class Momentum(_WindowStrategy):
    """Follow the reference feed's order flow: aggressive buying means Up, selling Down.

    Imbalance = (buy volume - sell volume) / total over the last ``window_s`` of trade prints
    carrying an aggressor and a size (Binance trades; index prints are ignored), timed by
    receive time (the engine's clock, so the window is trimmed at ``view.now_ns``). The
    claimed edge is ``min(edge_per_imbalance x |imbalance|, max_edge)`` and the fair price
    the ask plus that edge: a heuristic, not a model probability.
    """

    name: ClassVar[str] = "updown_momentum"
    summary: ClassVar[str] = (
        "Up/Down: follow the reference feed's buy/sell imbalance when the price moves the same way."
    )
    params_type: ClassVar[type[MomentumParams]] = MomentumParams

    def __init__(self, params: MomentumParams | None = None, *, id: str | None = None) -> None:
        super().__init__(id)
        self.params = params or MomentumParams()
        self._prints: dict[str, deque[_Print]] = {}

    def _observe(self, event: Event) -> None:
        if not isinstance(event, ReferencePrice) or event.symbol not in self._by_symbol:
            return
        if event.size is None or event.aggressor is None:
            return
        prints = self._prints.setdefault(event.symbol, deque())
        buy = event.aggressor is Side.BUY
        prints.append(_Print(event.ts_recv, float(event.price), float(event.size), buy))

    def _flow(self, symbol: str, now_ns: int) -> tuple[float, float, float] | None:
        """(imbalance, first price, last price) of the window, or ``None`` if too thin."""
        prints = self._prints.get(symbol)
        if prints is None:
            return None
        horizon = now_ns - round(self.params.window_s * NS_PER_S)
        while prints and prints[0].ts_ns < horizon:
            prints.popleft()
        total = sum(p.size for p in prints)
        if len(prints) < self.params.min_trades or total <= 0:
            return None
        bought = sum(p.size for p in prints if p.buy)
        return (2 * bought - total) / total, prints[0].price, prints[-1].price

    def _decide(self, state: WindowState) -> list[Signal]:
        p = self.params
        flow = self._flow(state.window.symbol, state.now_ns)
        if flow is None or state.seconds_left <= p.min_time_left_s:
            return []
        imbalance, first, last = flow
        move = (last - first) / state.strike
        if imbalance > p.threshold and move >= p.min_move:
            token, ask = state.up, state.up_ask
        elif imbalance < -p.threshold and move <= -p.min_move:
            token, ask = state.down, state.down_ask
        else:
            return []
        edge = min(p.edge_per_imbalance * abs(imbalance), p.max_edge)
        if ask is None or edge <= 0:
            return []
        return [self._buy(state, token, ask / ONE + edge, edge, p.confidence)]


class SettlementSniperParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of :class:`SettlementSniper`."""

    last_s: Annotated[
        float, msgspec.Meta(description="Trade only in the window's last seconds.", gt=0)
    ] = 30.0
    min_distance: Annotated[
        float, msgspec.Meta(description="Require |price - strike| / strike of at least this.", ge=0)
    ] = 0.001
    min_probability: Annotated[
        float,
        msgspec.Meta(
            description="Require the model to give the leading side this probability.", gt=0, le=1
        ),
    ] = 0.97
    min_edge: Annotated[
        float,
        msgspec.Meta(
            description="Buy when the leading side's ask is this far below its probability.", ge=0
        ),
    ] = 0.01
    annual_volatility: Volatility = 0.6
    confidence: Confidence = 0.9


class SettlementSniper(_WindowStrategy):
    """Buy the side that is all but settled in the last seconds, when its ask lags."""

    name: ClassVar[str] = "updown_sniper"
    summary: ClassVar[str] = (
        "Up/Down: in the window's last seconds, buy the side the price has all but "
        "settled when its ask is still below the model's probability."
    )
    params_type: ClassVar[type[SettlementSniperParams]] = SettlementSniperParams

    def __init__(
        self, params: SettlementSniperParams | None = None, *, id: str | None = None
    ) -> None:
        super().__init__(id)
        self.params = params or SettlementSniperParams()

    def _decide(self, state: WindowState) -> list[Signal]:
        p = self.params
        if state.seconds_left > p.last_s or state.distance < p.min_distance:
            return []
        fair_up = probability_up(state.price, state.strike, state.seconds_left, p.annual_volatility)
        if state.price >= state.strike:
            token, fair, ask = state.up, fair_up, state.up_ask
        else:
            token, fair, ask = state.down, 1.0 - fair_up, state.down_ask
        if fair < p.min_probability or ask is None or ask / ONE >= fair - p.min_edge:
            return []
        return [self._buy(state, token, fair, fair - ask / ONE, p.confidence)]
