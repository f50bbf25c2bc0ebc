"""Pure codecs from Polymarket discovery responses (Gamma, CLOB ``/markets``) to domain structs.

No I/O, no clock. List responses drop malformed items and say which in ``Page.dropped``
(a bad market never hides the other 99); a body that is not the expected envelope raises
:class:`GammaDecodeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Generic, TypeVar

import msgspec

from prediction_engine.core.ids import InvalidIdError, TokenId, Venue, parse_condition_id
from prediction_engine.core.ids import parse_token_id as _parse_token_id
from prediction_engine.core.markets import FeeSchedule, Market
from prediction_engine.core.numbers import SCALE
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.polymarket.gamma_wire import (
    ClobMarket,
    ClobMarketsPage,
    ClobPriceHistory,
    GammaEvent,
    GammaEventsKeyset,
    GammaFeeSchedule,
    GammaMarket,
    GammaMarketsKeyset,
    GammaSeries,
    GammaTag,
)

__all__ = [
    "EventSummary",
    "GammaDecodeError",
    "Page",
    "PricePoint",
    "SeriesSummary",
    "parse_clob_market",
    "parse_clob_markets_page",
    "parse_gamma_event",
    "parse_gamma_events",
    "parse_gamma_events_keyset",
    "parse_gamma_market",
    "parse_gamma_markets",
    "parse_gamma_markets_keyset",
    "parse_gamma_series_list",
    "parse_iso_ns",
    "parse_prices_history",
]

T = TypeVar("T")
W = TypeVar("W")
X = TypeVar("X")


class GammaDecodeError(DecodeError):
    """A Gamma or CLOB discovery body that does not have the documented shape."""


class EventSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A Gamma event: a group of markets (one for Up/Down windows, many for neg-risk)."""

    event_id: str
    slug: str
    title: str = ""
    series_slug: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    active: bool = False
    closed: bool = False
    neg_risk: bool = False
    volume: Decimal = Decimal(0)
    tags: tuple[str, ...] = ()
    markets: tuple[Market, ...] = ()


class SeriesSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A recurring series (``btc-up-or-down-5m``) and the events Gamma lists in it."""

    series_id: str
    slug: str
    title: str = ""
    recurrence: str | None = None
    events: tuple[EventSummary, ...] = ()


class PricePoint(msgspec.Struct, frozen=True):
    """One point of a token's price history: time (ns) and price."""

    ts_ns: int
    price: Decimal


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One list response: parsed items, the reasons items were dropped, the next cursor."""

    items: tuple[T, ...]
    dropped: tuple[str, ...] = ()
    next_cursor: str | None = None


_MARKET = msgspec.json.Decoder(GammaMarket)
_EVENT = msgspec.json.Decoder(GammaEvent)
_SERIES = msgspec.json.Decoder(GammaSeries)
_CLOB_MARKET = msgspec.json.Decoder(ClobMarket)
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_MARKETS_KEYSET = msgspec.json.Decoder(GammaMarketsKeyset)
_EVENTS_KEYSET = msgspec.json.Decoder(GammaEventsKeyset)
_CLOB_PAGE = msgspec.json.Decoder(ClobMarketsPage)
_HISTORY = msgspec.json.Decoder(ClobPriceHistory)
_STR_LIST = msgspec.json.Decoder(list[str])
_DEC_LIST = msgspec.json.Decoder(list[Decimal])


# ---------------------------------------------------------------- scalar helpers


def parse_iso_ns(text: str) -> int:
    """Parse a Gamma ISO time (``2026-03-12T09:25:00Z``, ``2026-04-05 15:10:00+00``) to ns.

    A time without an offset, or a bare date, is taken as UTC.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise GammaDecodeError(f"not an ISO 8601 time: {text[:40]!r}") from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _optional_ns(text: str | None) -> int | None:
    return parse_iso_ns(text) if text else None


def _micro(value: Decimal | None, field: str) -> int | None:
    """Convert an exact decimal to micro-units; refuse what would need rounding."""
    if value is None:
        return None
    scaled = value * SCALE
    if value < 0 or scaled != scaled.to_integral_value():
        raise GammaDecodeError(f"{field} {value} is not a non-negative 6-decimal amount")
    return int(scaled)


def _token(text: str) -> TokenId:
    try:
        return _parse_token_id(text)
    except InvalidIdError as e:
        raise GammaDecodeError(str(e)) from e


def _blank_to_none(text: str | None) -> str | None:
    return text or None


def _json_array(text: str | None, field: str, decoder: msgspec.json.Decoder[list[W]]) -> list[W]:
    """Decode a JSON array that Gamma sends as a string (``"[\\"Yes\\", \\"No\\"]"``)."""
    if not text:
        return []
    try:
        return decoder.decode(text)
    except msgspec.DecodeError as e:
        raise GammaDecodeError(f"{field} is not a JSON-encoded array: {e}", text) from e


def _tag_names(tags: Sequence[GammaTag | str] | None) -> tuple[str, ...]:
    names = (tag if isinstance(tag, str) else (tag.label or tag.slug or "") for tag in tags or ())
    return tuple(name for name in names if name)


# ---------------------------------------------------------------- Gamma market


_Outcomes = tuple[tuple[str, ...], tuple[TokenId, ...], tuple[Decimal, ...]]


def _outcomes(wire: GammaMarket) -> _Outcomes:
    outcomes = tuple(_json_array(wire.outcomes, "outcomes", _STR_LIST))
    tokens = tuple(_token(t) for t in _json_array(wire.clob_token_ids, "clobTokenIds", _STR_LIST))
    prices = tuple(_json_array(wire.outcome_prices, "outcomePrices", _DEC_LIST))
    for name, values in (("clobTokenIds", tokens), ("outcomePrices", prices)):
        if values and len(values) != len(outcomes):
            raise GammaDecodeError(f"{len(outcomes)} outcomes but {len(values)} {name}")
    return outcomes, tokens, prices


def _winner(outcomes: Sequence[str], prices: Sequence[Decimal]) -> str | None:
    """The outcome priced 1 when the others are priced 0 (a settled market)."""
    if len(prices) != len(outcomes) or sorted(prices) != [0] * (len(prices) - 1) + [1]:
        return None
    return outcomes[prices.index(Decimal(1))]


def _fee_schedule(wire: GammaFeeSchedule | None) -> FeeSchedule | None:
    if wire is None:
        return None
    return FeeSchedule(
        rate=wire.rate,
        exponent=wire.exponent,
        taker_only=wire.taker_only,
        rebate_rate=wire.rebate_rate or Decimal(0),
    )


def _series_slug(event: GammaEvent | None) -> str | None:
    if event is None:
        return None
    for series in event.series or ():
        if series.slug:
            return series.slug
    return event.series_slug or None


def market_from_gamma(wire: GammaMarket, parent: GammaEvent | None = None) -> Market:
    """Convert one Gamma market; ``parent`` is the enclosing event of an ``/events`` item."""
    if not wire.condition_id or not wire.slug:
        raise GammaDecodeError(f"market {wire.id!r} lacks conditionId or slug")
    try:
        condition = parse_condition_id(wire.condition_id)
    except InvalidIdError as e:
        raise GammaDecodeError(str(e)) from e
    event = parent or (wire.events[0] if wire.events else None)
    outcomes, tokens, prices = _outcomes(wire)
    winner = _winner(outcomes, prices) if wire.closed else None
    return Market(
        venue=Venue.POLYMARKET,
        condition_id=condition,
        market_id=wire.id or "",
        slug=wire.slug,
        question=wire.question or "",
        description=wire.description or "",
        outcomes=outcomes,
        tokens=tokens,
        outcome_prices=prices,
        tick_size=_micro(wire.order_price_min_tick_size, "orderPriceMinTickSize"),
        min_order_size=_micro(wire.order_min_size, "orderMinSize"),
        neg_risk=bool(wire.neg_risk),
        neg_risk_market_id=_blank_to_none(wire.neg_risk_market_id),
        active=bool(wire.active),
        closed=bool(wire.closed),
        archived=bool(wire.archived),
        accepting_orders=bool(wire.accepting_orders),
        enable_order_book=bool(wire.enable_order_book),
        volume=_first(wire.volume, wire.volume_num),
        liquidity=_first(wire.liquidity, wire.liquidity_num),
        fee_schedule=_fee_schedule(wire.fee_schedule),
        fees_enabled=bool(wire.fees_enabled),
        tags=_tag_names(wire.tags) or _tag_names(event.tags if event else None),
        event_id=event.id if event else None,
        event_slug=event.slug if event else None,
        event_title=event.title if event else None,
        series_slug=_series_slug(event),
        start_ns=_optional_ns(wire.start_date),
        end_ns=_optional_ns(wire.end_date),
        event_start_ns=_event_start_ns(wire, event),
        best_bid=wire.best_bid,
        best_ask=wire.best_ask,
        resolved=wire.uma_resolution_status == "resolved" or winner is not None,
        winning_outcome=winner,
    )


def _first(*values: Decimal | None) -> Decimal:
    return next((v for v in values if v is not None), Decimal(0))


def _event_start_ns(wire: GammaMarket, event: GammaEvent | None) -> int | None:
    text = wire.event_start_time or wire.game_start_time or (event.start_time if event else None)
    return _optional_ns(text)


def _decode(decoder: msgspec.json.Decoder[W], body: bytes | str, what: str) -> W:
    try:
        return decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise GammaDecodeError(f"bad {what}: {e}", body) from e


def _page(raws: Sequence[X], convert: Callable[[X], T], next_cursor: str | None = None) -> Page[T]:
    """A page of every item that converts, with the reasons of the ones dropped."""
    items, dropped = _each(raws, convert)
    return Page(items=tuple(items), dropped=tuple(dropped), next_cursor=next_cursor)


def _each(raws: Sequence[X], convert: Callable[[X], T]) -> tuple[list[T], list[str]]:
    """Convert every item, collecting the reasons of the ones dropped."""
    items: list[T] = []
    dropped: list[str] = []
    for raw in raws:
        try:
            items.append(convert(raw))
        except DecodeError as e:
            dropped.append(str(e))
    return items, dropped


def _gamma_market_raw(raw: msgspec.Raw | bytes) -> Market:
    return market_from_gamma(_decode(_MARKET, raw, "Gamma market"))


def parse_gamma_market(body: bytes) -> Market:
    """Parse one Gamma market object (``/markets/{id}``, ``/markets/slug/{slug}``)."""
    return _gamma_market_raw(body)


def parse_gamma_markets(body: bytes) -> Page[Market]:
    """Parse a Gamma ``/markets`` list; ``items`` are :class:`Market`."""
    raws = _decode(_RAW_LIST, body, "Gamma markets list")
    return _page(raws, _gamma_market_raw)


def parse_gamma_markets_keyset(body: bytes) -> Page[Market]:
    """Parse a ``/markets/keyset`` page; ``next_cursor`` is ``None`` on the last page."""
    envelope = _decode(_MARKETS_KEYSET, body, "Gamma markets keyset page")
    return _page(envelope.markets, _gamma_market_raw, envelope.next_cursor)


# ---------------------------------------------------------------- Gamma event and series


def event_from_gamma(wire: GammaEvent) -> EventSummary:
    """Convert one Gamma event and its nested markets (a bad market fails the event)."""
    if not wire.id or not wire.slug:
        raise GammaDecodeError(f"event {wire.id!r} lacks id or slug")
    return EventSummary(
        event_id=wire.id,
        slug=wire.slug,
        title=wire.title or "",
        series_slug=_series_slug(wire),
        start_ns=_optional_ns(wire.start_time or wire.start_date),
        end_ns=_optional_ns(wire.end_date),
        active=bool(wire.active),
        closed=bool(wire.closed),
        neg_risk=bool(wire.neg_risk),
        volume=wire.volume or Decimal(0),
        tags=_tag_names(wire.tags),
        markets=tuple(market_from_gamma(m, wire) for m in wire.markets or ()),
    )


def _gamma_event_raw(raw: msgspec.Raw | bytes) -> EventSummary:
    return event_from_gamma(_decode(_EVENT, raw, "Gamma event"))


def parse_gamma_event(body: bytes) -> EventSummary:
    """Parse one Gamma event object (``/events/{id}``, ``/events/slug/{slug}``)."""
    return _gamma_event_raw(body)


def parse_gamma_events(body: bytes) -> Page[EventSummary]:
    """Parse a Gamma ``/events`` list; ``items`` are :class:`EventSummary`."""
    raws = _decode(_RAW_LIST, body, "Gamma events list")
    return _page(raws, _gamma_event_raw)


def parse_gamma_events_keyset(body: bytes) -> Page[EventSummary]:
    """Parse an ``/events/keyset`` page."""
    envelope = _decode(_EVENTS_KEYSET, body, "Gamma events keyset page")
    return _page(envelope.events, _gamma_event_raw, envelope.next_cursor)


def _series_raw(raw: msgspec.Raw) -> SeriesSummary:
    wire = _decode(_SERIES, raw, "Gamma series")
    if not wire.id or not wire.slug:
        raise GammaDecodeError(f"series {wire.id!r} lacks id or slug")
    # A series lists hundreds of past windows; one odd event must not hide the series.
    events, _ = _each(wire.events or [], event_from_gamma)
    return SeriesSummary(
        series_id=wire.id,
        slug=wire.slug,
        title=wire.title or "",
        recurrence=wire.recurrence,
        events=tuple(events),
    )


def parse_gamma_series_list(body: bytes) -> Page[SeriesSummary]:
    """Parse a Gamma ``/series`` list; ``items`` are :class:`SeriesSummary`."""
    raws = _decode(_RAW_LIST, body, "Gamma series list")
    return _page(raws, _series_raw)


# ---------------------------------------------------------------- CLOB markets


def market_from_clob(wire: ClobMarket) -> Market:
    """Convert a CLOB market; ``market_id`` is the condition id (the CLOB has no Gamma id)."""
    try:
        condition = parse_condition_id(wire.condition_id)
    except InvalidIdError as e:
        raise GammaDecodeError(str(e)) from e
    # Markets still hydrating (or never deployed) list tokens with empty ids: keep none.
    tokens = [t for t in wire.tokens or () if t.token_id]
    winners = [t.outcome for t in tokens if t.winner]
    return Market(
        venue=Venue.POLYMARKET,
        condition_id=condition,
        market_id=condition,
        slug=wire.market_slug or "",
        question=wire.question or "",
        description=wire.description or "",
        outcomes=tuple(t.outcome for t in tokens),
        tokens=tuple(_token(t.token_id) for t in tokens),
        outcome_prices=tuple(t.price or Decimal(0) for t in tokens),
        tick_size=_micro(wire.minimum_tick_size, "minimum_tick_size"),
        min_order_size=_micro(wire.minimum_order_size, "minimum_order_size"),
        neg_risk=bool(wire.neg_risk),
        neg_risk_market_id=_blank_to_none(wire.neg_risk_market_id),
        active=bool(wire.active),
        closed=bool(wire.closed),
        archived=bool(wire.archived),
        accepting_orders=bool(wire.accepting_orders),
        enable_order_book=bool(wire.enable_order_book),
        tags=tuple(wire.tags or ()),
        end_ns=_optional_ns(wire.end_date_iso),
        event_start_ns=_optional_ns(wire.game_start_time),
        resolved=bool(winners),
        winning_outcome=winners[0] if len(winners) == 1 else None,
    )


def _clob_market_raw(raw: msgspec.Raw | bytes) -> Market:
    return market_from_clob(_decode(_CLOB_MARKET, raw, "CLOB market"))


def parse_clob_market(body: bytes) -> Market:
    """Parse a CLOB ``GET /markets/{condition_id}`` body."""
    return _clob_market_raw(body)


def parse_clob_markets_page(body: bytes) -> Page[Market]:
    """Parse a CLOB ``GET /markets`` page; ``next_cursor`` ``"LTE="`` means the end."""
    envelope = _decode(_CLOB_PAGE, body, "CLOB markets page")
    return _page(envelope.data or [], _clob_market_raw, envelope.next_cursor)


def parse_prices_history(body: bytes) -> tuple[PricePoint, ...]:
    """Parse ``GET /prices-history`` (``t`` unix seconds) into points with ns times."""
    wire = _decode(_HISTORY, body, "prices history")
    return tuple(PricePoint(p.t * 1_000_000_000, p.p) for p in wire.history or ())
