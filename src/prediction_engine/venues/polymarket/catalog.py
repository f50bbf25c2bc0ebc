"""The Polymarket market catalog: search, lookups, on-disk cache, crypto Up/Down discovery.

A :class:`Catalog` is an immutable snapshot of :class:`Market` s with the time it was fetched.
It is stored as msgspec JSON under ``<data dir>/catalog/polymarket.json``; when none has been
fetched, the bundled sample (``prediction_engine/data/sample_catalog.json``) stands in.
Refreshing talks to Gamma through :class:`~.rest.GammaClient`; nothing here reads the clock.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Final, TypeVar

import msgspec

from prediction_engine.config import Config
from prediction_engine.core.ids import Venue
from prediction_engine.core.markets import Market
from prediction_engine.core.updown import (
    UPDOWN_ASSETS,
    UPDOWN_INTERVALS,
    UpDownError,
    UpDownSlug,
    check_updown,
    parse_updown_slug,
)
from prediction_engine.venues.polymarket.gamma_parse import EventSummary
from prediction_engine.venues.polymarket.rest import GammaClient, MarketQuery, OnPage

__all__ = [
    "DAY_NS",
    "UPDOWN_ASSETS",
    "UPDOWN_INTERVALS",
    "Catalog",
    "CatalogError",
    "CatalogFile",
    "CatalogStore",
    "LoadedCatalog",
    "SearchHit",
    "UpDownMatch",
    "UpDownSlug",
    "catalog_path",
    "find_updown",
    "load_catalog",
    "open_catalog",
    "parse_updown_slug",
    "refresh_catalog",
    "tokenize",
    "updown_series_slug",
    "updown_slug",
    "updown_window_start_s",
]

T = TypeVar("T")

DAY_NS: Final = 86_400 * 1_000_000_000
FORMAT_VERSION: Final = 1

_WEIGHTS: Final = (8, 4, 2, 1)
"""Search weights of a term found in the slug, question, tags, description."""

_TOKEN: Final = re.compile(r"[0-9a-z]+")


class CatalogError(Exception):
    """A catalog file that cannot be read, or a lookup asked with unsupported arguments."""


class CatalogFile(msgspec.Struct, frozen=True, kw_only=True):
    """The on-disk format: ``{"version": 1, "venue": "polymarket", "fetched_at_ns": ...}``."""

    version: int = FORMAT_VERSION
    venue: Venue = Venue.POLYMARKET
    fetched_at_ns: int
    markets: tuple[Market, ...]


class SearchHit(msgspec.Struct, frozen=True):
    """One search result and its score (higher is better)."""

    market: Market
    score: int


def tokenize(text: str) -> list[str]:
    """Split text into lower-case alphanumeric terms (``"BTC Up-or-Down"`` -> btc, up, or, down)."""
    return _TOKEN.findall(text.casefold())


def _terms(market: Market) -> dict[str, int]:
    """Weight of each term of a market: the sum of the weights of the fields holding it."""
    fields = (market.slug, market.question, " ".join(market.tags), market.description)
    weights: dict[str, int] = {}
    for text, weight in zip(fields, _WEIGHTS, strict=True):
        for term in set(tokenize(text)):
            weights[term] = weights.get(term, 0) + weight
    return weights


class Catalog:
    """An immutable set of markets with lookups by slug, token, condition id and text."""

    def __init__(self, markets: Iterable[Market], fetched_at_ns: int) -> None:
        self.markets: tuple[Market, ...] = tuple(markets)
        self.fetched_at_ns = fetched_at_ns
        self._by_slug: dict[str, Market] = {m.slug: m for m in self.markets}
        self._by_condition: dict[str, Market] = {m.condition_id: m for m in self.markets}
        self._by_token: dict[str, Market] = {t: m for m in self.markets for t in m.tokens}
        self._index: list[dict[str, int]] | None = None

    def __len__(self) -> int:
        return len(self.markets)

    def age(self, now_ns: int) -> timedelta:
        """How long ago the markets were fetched."""
        return timedelta(microseconds=(now_ns - self.fetched_at_ns) // 1_000)

    def by_slug(self, slug: str) -> Market | None:
        """Return the market with exactly this slug."""
        return self._by_slug.get(slug)

    def by_token(self, token: str) -> Market | None:
        """Return the market trading this outcome token."""
        return self._by_token.get(token)

    def by_condition(self, condition_id: str) -> Market | None:
        """Return the market with this condition id (any case)."""
        return self._by_condition.get(condition_id.lower())

    def match_slug(self, pattern: str) -> list[Market]:
        """Return the markets whose slug matches the regular expression (``re.search``)."""
        try:
            compiled = re.compile(pattern)
        except re.error as e:
            raise CatalogError(f"bad slug pattern {pattern!r}: {e}") from e
        return [m for m in self.markets if compiled.search(m.slug)]

    def search(self, query: str, limit: int = 20, *, open_only: bool = False) -> list[SearchHit]:
        """Rank markets by weighted term matches: slug 8, question 4, tags 2, description 1.

        Markets matching more query terms come first, then higher scores, then more volume.
        """
        terms = list(dict.fromkeys(tokenize(query)))
        if not terms:
            return []
        if self._index is None:
            self._index = [_terms(m) for m in self.markets]
        ranked: list[tuple[int, int, Decimal, Market]] = []
        for market, weights in zip(self.markets, self._index, strict=True):
            found = [weights[t] for t in terms if t in weights]
            if found and not (open_only and market.closed):
                ranked.append((len(found), sum(found), market.volume, market))
        ranked.sort(key=lambda r: (-r[0], -r[1], -r[2]))
        return [SearchHit(market, score) for _, score, _, market in ranked[: max(0, limit)]]

    def updown(self, asset: str, interval: str, now_ns: int) -> Market | None:
        """Offline Up/Down lookup: the window containing ``now_ns``, else the next one."""
        _check_updown(asset, interval)
        windows: list[tuple[int, int, Market]] = []
        for market in self.markets:
            key = parse_updown_slug(market.slug)
            if key is not None and (key.asset, key.interval) == (asset, interval):
                windows.append((key.start_s * 1_000_000_000, key.end_s * 1_000_000_000, market))
        return _pick_window(windows, now_ns)

    def to_file(self) -> CatalogFile:
        """Return the on-disk form."""
        return CatalogFile(fetched_at_ns=self.fetched_at_ns, markets=self.markets)


# ---------------------------------------------------------------- storage


def catalog_path(config: Config) -> Path:
    """Where the fetched catalog lives: ``<data dir>/catalog/polymarket.json``."""
    return config.data_path / "catalog" / "polymarket.json"


_FILE_DECODER: Final = msgspec.json.Decoder(CatalogFile)


def _decode_catalog(body: bytes, where: str) -> Catalog:
    try:
        stored = _FILE_DECODER.decode(body)
    except msgspec.DecodeError as e:
        raise CatalogError(
            f"catalog {where} is not readable ({e}); run `pengine markets refresh`"
        ) from e
    if stored.version != FORMAT_VERSION:
        raise CatalogError(
            f"catalog {where} has format {stored.version}, expected {FORMAT_VERSION}"
        )
    return Catalog(stored.markets, stored.fetched_at_ns)


class CatalogStore:
    """Reads and atomically writes one catalog file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Catalog | None:
        """Return the stored catalog, or ``None`` when nothing has been fetched yet."""
        try:
            body = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return _decode_catalog(body, str(self.path))

    def save(self, catalog: Catalog) -> None:
        """Write the catalog (to a temporary file first, so readers never see half of it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".json.tmp")
        temporary.write_bytes(msgspec.json.encode(catalog.to_file()))
        temporary.replace(self.path)


def load_sample() -> Catalog:
    """Return the bundled sample catalog."""
    body = resources.files("prediction_engine").joinpath("data/sample_catalog.json").read_bytes()
    return _decode_catalog(body, "bundled sample")


class LoadedCatalog(msgspec.Struct, frozen=True):
    """A catalog and where it came from (``path`` is ``None`` for the bundled sample)."""

    catalog: Catalog
    path: Path | None

    @property
    def is_sample(self) -> bool:
        """Whether this is the bundled sample rather than a fetched catalog."""
        return self.path is None


def load_catalog(store: CatalogStore) -> LoadedCatalog:
    """Return the fetched catalog, or the bundled sample when none has been fetched."""
    stored = store.load()
    return LoadedCatalog(stored, store.path) if stored else LoadedCatalog(load_sample(), None)


async def refresh_catalog(
    gamma: GammaClient,
    now_ns: int,
    query: MarketQuery | None = None,
    *,
    keyset: bool = False,
    on_page: OnPage | None = None,
) -> Catalog:
    """Fetch every market matching ``query`` into a new catalog stamped ``now_ns``."""
    markets = [m async for m in gamma.markets(query, keyset=keyset, on_page=on_page)]
    return Catalog(markets, now_ns)


async def open_catalog(
    store: CatalogStore,
    now_ns: int,
    refresh: Callable[[], Awaitable[Catalog | None]],
    group: asyncio.TaskGroup,
    max_age_ns: int = DAY_NS,
) -> tuple[LoadedCatalog, asyncio.Task[Catalog | None] | None]:
    """Return the current catalog at once and, when stale, a refresh task in ``group``.

    The task (owned by the caller's task group, so a failure is not lost) awaits ``refresh``,
    saves the result to ``store`` and returns it; a ``refresh`` that returns ``None`` (it
    could not fetch and said why) keeps the current file. ``None`` when the catalog is fresh.
    """
    loaded = load_catalog(store)
    if not loaded.is_sample and now_ns - loaded.catalog.fetched_at_ns < max_age_ns:
        return loaded, None

    async def refresh_and_save() -> Catalog | None:
        catalog = await refresh()
        if catalog is not None:
            store.save(catalog)
        return catalog

    return loaded, group.create_task(refresh_and_save(), name=f"refresh catalog {store.path}")


# ---------------------------------------------------------------- crypto Up/Down


class UpDownMatch(msgspec.Struct, frozen=True):
    """The Up/Down market found, its window, and how it was found (slug, next or series)."""

    market: Market
    start_s: int
    end_s: int
    found_by: str


def _check_updown(asset: str, interval: str) -> None:
    try:
        check_updown(asset, interval)
    except UpDownError as e:
        raise CatalogError(str(e)) from e


def updown_window_start_s(interval: str, now_ns: int) -> int:
    """Start (unix seconds) of the window holding ``now_ns``, aligned to the interval."""
    length = UPDOWN_INTERVALS[interval]
    now_s = now_ns // 1_000_000_000
    return now_s - now_s % length


def updown_slug(asset: str, interval: str, start_s: int) -> str:
    """Event and market slug of one window: ``btc-updown-5m-1773307200``."""
    return f"{asset}-updown-{interval}-{start_s}"


def updown_series_slug(asset: str, interval: str) -> str:
    """Slug of the series that lists the windows: ``btc-up-or-down-5m``."""
    return f"{asset}-up-or-down-{interval}"


def _pick_window(windows: Sequence[tuple[int, int, T]], now_ns: int) -> T | None:
    """The item whose window contains ``now_ns``, else the earliest one starting later."""
    for start, end, item in windows:
        if start <= now_ns < end:
            return item
    later = [w for w in windows if w[0] > now_ns]
    return min(later, key=lambda w: w[0])[2] if later else None


async def _market_at_slug(gamma: GammaClient, slug: str) -> Market | None:
    market = await gamma.market_by_slug(slug)
    if market is not None:
        return market
    event = await gamma.event_by_slug(slug)
    return event.markets[0] if event and event.markets else None


def _event_window(event: EventSummary) -> tuple[int, int] | None:
    key = parse_updown_slug(event.slug)
    if key is not None:
        return key.start_s * 1_000_000_000, key.end_s * 1_000_000_000
    if event.start_ns is not None and event.end_ns is not None:
        return event.start_ns, event.end_ns
    return None


async def _from_series(gamma: GammaClient, asset: str, interval: str, now_ns: int) -> Market | None:
    series = await gamma.series_by_slug(updown_series_slug(asset, interval))
    if series is None:
        return None
    windows = [
        (window[0], window[1], event)
        for event in series.events
        if not event.closed and (window := _event_window(event)) is not None
    ]
    event = _pick_window(windows, now_ns)
    if event is None:
        return None
    # Series listings usually omit the markets of their events: fetch the chosen one.
    return event.markets[0] if event.markets else await _market_at_slug(gamma, event.slug)


async def find_updown(
    gamma: GammaClient, asset: str, interval: str, now_ns: int
) -> UpDownMatch | None:
    """Find the live crypto Up/Down market for ``asset``/``interval`` at ``now_ns``.

    Tries the computed slug of the current window, then the next window, then the series
    (``{asset}-up-or-down-{interval}``) for the event whose window contains now or comes next.
    """
    _check_updown(asset, interval)
    start = updown_window_start_s(interval, now_ns)
    step = UPDOWN_INTERVALS[interval]
    for found_by, window_start in (("slug", start), ("next", start + step)):
        market = await _market_at_slug(gamma, updown_slug(asset, interval, window_start))
        if market is not None:
            return UpDownMatch(market, window_start, window_start + step, found_by)
    market = await _from_series(gamma, asset, interval, now_ns)
    if market is None:
        return None
    key = parse_updown_slug(market.slug) or parse_updown_slug(market.event_slug or "")
    window_start = key.start_s if key else start
    return UpDownMatch(market, window_start, window_start + step, "series")
