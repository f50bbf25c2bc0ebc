"""Conformance: what the simulator serves has the shape of the real captures and parses with
our codec.

One module-scoped session (`served`) drives a paused venue over a real WebSocket and real HTTP
and keeps every frame and body raw. Tests compare each kind of output with the real captures
in ../shared/fixtures/polymarket and tests/data/polymarket:

- `shape()` turns JSON samples into a type tree and `differences()` lists, as readable paths,
  how the simulator's tree departs from the captures' (`price_changes[].best_bid: number !=
  str`, `tick_size: extra`, `startTime: missing`);
- every difference must be listed in `_DELIBERATE` (a justified choice) or `_SIM_GAPS` (a
  simulator shortfall: delete its entry with the fix). A new difference fails, and so does a
  listed one that no longer occurs, so the lists stay exact.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from sim_helpers import FIXTURES, fixture, read_until, subscribe

from prediction_engine.core.events import (
    BookDelta,
    BookSnapshot,
    Event,
    MarketListed,
    MarketResolved,
    TickSizeChanged,
    TopOfBook,
    Trade,
)
from prediction_engine.sim.polymarket import MarketInfo, SimConfig, SimPolymarket
from prediction_engine.venues.polymarket import gamma_parse
from prediction_engine.venues.polymarket.gamma_wire import GammaEvent, GammaMarket
from prediction_engine.venues.polymarket.parse import (
    PolymarketParser,
    parse_rest_book,
    parse_rest_books,
)

STREAMS = Path(__file__).resolve().parents[1] / "data" / "polymarket"
NAUTILUS = "ws_market_stream_nautilus_crossing_burst.jsonl"  # 2026 capture: book, 49 deltas, book
POLYPY = "ws_market_stream_polypy_messages_hash.jsonl"  # 2025; recorder rewrote ts as numbers

_NEWER_BOOK = "a 2025+ /book field (doc §3); the capture is from Oct 2024"

# (comparison, difference) -> why the simulator differs on purpose.
_DELIBERATE = {
    ("last_trade_price", "transaction_hash: extra"): "2026 frames add it (doc §4); capture: 2024",
    ("clob book", "min_order_size: extra"): _NEWER_BOOK,
    ("clob book", "tick_size: extra"): _NEWER_BOOK,
    ("clob book", "neg_risk: extra"): _NEWER_BOOK,
    ("clob book", "last_trade_price: extra"): _NEWER_BOOK,
    ("gamma market", "pagerDutyNotificationEnabled: missing"): "ops flag, no trading meaning",
    ("gamma series", "events: extra"): "/series items list their events (GammaSeries); the "
    "one real series sample is nested in an event, which leaves them out",
    ("sports", "umaResolutionStatus: missing"): "the real game market is resolved and ours "
    "open; open markets carry none (Up/Down and neg-risk captures)",
}
# (comparison, difference) -> simulator shortfall these tests found; delete it with the fix.
_SIM_GAPS = {
    ("later book", "tick_size: extra"): "the 2026 post-trade book (nautilus line 51) has none",
    ("later book", "last_trade_price: extra"): "only the initial snapshot carries it "
    "(nautilus line 51; doc §4 book, I-209)",
}


# -- JSON type trees ---------------------------------------------------------------------------


def json_kind(value: Any) -> str:
    """JSON type of a decoded value (Decimal and float are both numbers)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | Decimal):
        return "number"
    return {str: "str", list: "list", dict: "object", type(None): "null"}[type(value)]


@dataclass
class Shape:
    """Type tree of one or more JSON samples: kinds seen here, object members, list items."""

    kinds: set[str] = field(default_factory=set)
    seen: int = 0
    objects: int = 0
    members: dict[str, Shape] = field(default_factory=dict)
    items: Shape | None = None

    def always(self) -> set[str]:
        """Keys present in every object sample."""
        return {key for key, member in self.members.items() if member.seen == self.objects}


def shape(*samples: Any, opaque: frozenset[str] = frozenset()) -> Shape:
    """Merge samples into one type tree; members named in `opaque` keep their kind only."""
    root = Shape()
    for sample in samples:
        _absorb(root, sample, opaque)
    return root


def _absorb(node: Shape, value: Any, opaque: frozenset[str]) -> None:
    node.kinds.add(json_kind(value))
    node.seen += 1
    if isinstance(value, dict):
        node.objects += 1
        for key, member in value.items():
            child = node.members.setdefault(key, Shape())
            if key in opaque:
                child.kinds.add(json_kind(member))
                child.seen += 1
            else:
                _absorb(child, member, opaque)
    elif isinstance(value, list):
        node.items = node.items or Shape()
        for item in value:
            _absorb(node.items, item, opaque)


def differences(real: Shape, ours: Shape, path: str = "") -> list[str]:
    """How `ours` departs from `real`, recursively: a kind real never has, a key every real
    object has but some of ours lack (`missing`), a key no real object has (`extra`)."""
    found = []
    if not ours.kinds <= real.kinds:
        found.append(f"{path or '.'}: {_kinds(ours)} != {_kinds(real)}")
    always, ours_always = real.always(), ours.always()
    for key in sorted(real.members.keys() | ours.members.keys()):
        where = f"{path}.{key}" if path else key
        if key not in real.members:
            found.append(f"{where}: extra")
        elif key in always and key not in ours_always:
            found.append(f"{where}: missing")
        elif key in ours.members:
            found += differences(real.members[key], ours.members[key], where)
    if real.items is not None and ours.items is not None:
        found += differences(real.items, ours.items, f"{path}[]")
    return found


def _kinds(node: Shape) -> str:
    return "|".join(sorted(node.kinds))


def assert_listed(comparison: str, found: list[str]) -> None:
    """Every difference is allow-listed for `comparison`, and every listed one still occurs."""
    listed = {diff for name, diff in _DELIBERATE | _SIM_GAPS if name == comparison}
    new, gone = sorted(set(found) - listed), sorted(listed - set(found))
    assert not new, f"{comparison}: unlisted differences from the real captures: {new}"
    assert not gone, f"{comparison}: listed differences no longer occur, delete them: {gone}"


# -- one captured session ------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """What one simulated session sent: market-channel text frames in order, HTTP bodies."""

    frames: list[str]
    bodies: dict[str, bytes]
    listed: MarketInfo
    resolved: MarketInfo

    @cached_property
    def ws(self) -> list[Any]:
        """The frames decoded (the first is the initial array of books)."""
        return [json.loads(text) for text in self.frames]

    def body(self, name: str) -> Any:
        """An HTTP body decoded, JSON numbers kept exact."""
        return json.loads(self.bodies[name], parse_float=Decimal)


async def _drain(sim: SimPolymarket, ws: aiohttp.ClientWebSocketResponse) -> list[str]:
    await sim.broadcast_raw("MARK")
    return await read_until(ws, "MARK")


async def _capture() -> Served:
    # Not `quiet_sim`: its cap of 5 assets per connection would hide most books.
    async with (
        SimPolymarket(SimConfig(seed=7, start_paused=True)) as sim,
        aiohttp.ClientSession() as http,
        http.ws_connect(sim.ws_market_url) as ws,
    ):
        await subscribe(ws, sim.token_ids())
        frames = [(await ws.receive(timeout=5)).data]
        wanted = {"book", "price_change", "last_trade_price", "best_bid_ask"}
        for round_ in range(50):
            await sim.advance(100)
            frames += await _drain(sim, ws)
            seen = {json.loads(text)["event_type"] for text in frames[1:]}
            if round_ >= 2 and wanted <= seen:
                break
        open_binary = [m for m in sim.markets() if not (m.closed or m.neg_risk or m.series_slug)]
        retick, resolved = open_binary[0], open_binary[1]
        new_tick = "0.001" if retick.tick_size == "0.01" else "0.01"
        await sim.change_tick(retick.token_ids[0], new_tick)
        listed = await sim.list_market("Will the conformance suite pass?")
        await sim.resolve_market(resolved.condition_id, winner=1)
        frames += await _drain(sim, ws)
        bodies = await _fetch(sim, http, listed, resolved)
    return Served(frames, bodies, listed, resolved)


async def _fetch(
    sim: SimPolymarket, http: aiohttp.ClientSession, listed: MarketInfo, resolved: MarketInfo
) -> dict[str, bytes]:
    neg_risk = next(m for m in sim.markets() if m.neg_risk and not m.closed)
    tokens = sim.token_ids()
    gets = {
        "clob book": (f"{sim.clob_url}/book", {"token_id": tokens[0]}),
        "clob markets": (f"{sim.clob_url}/markets", {}),
        "clob market": (f"{sim.clob_url}/markets/{neg_risk.condition_id}", {}),
        "clob market resolved": (f"{sim.clob_url}/markets/{resolved.condition_id}", {}),
        "gamma markets": (f"{sim.gamma_url}/markets", {"limit": "100"}),
        "gamma events": (f"{sim.gamma_url}/events", {"limit": "100"}),
        "gamma series": (f"{sim.gamma_url}/series", {}),
        "gamma market updown": (f"{sim.gamma_url}/markets/slug/{sim.updown_slug('btc', 5)}", {}),
        "gamma market resolved": (f"{sim.gamma_url}/markets/slug/{resolved.slug}", {}),
        "gamma market listed": (f"{sim.gamma_url}/markets/slug/{listed.slug}", {}),
    }
    bodies = {}
    for name, (url, params) in gets.items():
        async with http.get(url, params=params) as response:
            assert response.status == 200, (name, await response.text())
            bodies[name] = await response.read()
    books = [{"token_id": token} for token in tokens[:4]]
    async with http.post(f"{sim.clob_url}/books", json=books) as response:
        bodies["clob books"] = await response.read()
    return bodies


@pytest.fixture(scope="module")
def served() -> Served:
    """One simulated session, captured once for the module (it runs in its own event loop)."""
    return asyncio.run(_capture())


def _stream(name: str) -> list[Any]:
    return [json.loads(line) for line in (STREAMS / name).read_text().splitlines() if line]


# -- samples per comparison: the real captures and what the simulator served ----------------------

WS_COMPARISONS = [
    "initial book",
    "later book",
    "price_change",
    "last_trade_price",
    "tick_size_change",
    "best_bid_ask",
    "new_market",
    "market_resolved",
]
REST_COMPARISONS = [
    "clob book",
    "clob markets page",
    "clob market",
    "gamma market",
    "gamma event",
    "gamma series",
    "gamma tag",
]
# Kinds of Gamma market, each paired with the real capture of that kind.
CODEC_PAIRS = ["updown", "resolved", "sports", "neg-risk"]
# Gamma objects nest each other; each class is compared on its own, wherever it occurs.
_GAMMA_CLASSES = {"events": "event", "markets": "market", "series": "series", "tags": "tag"}


def _gamma_objects(samples: list[tuple[Any, str]]) -> dict[str, list[Any]]:
    """File every Gamma object under its class, however deeply nested."""
    out: dict[str, list[Any]] = {}

    def walk(value: Any, cls: str) -> None:
        for obj in value if isinstance(value, list) else [value]:
            out.setdefault(cls, []).append(obj)
            for key, member in obj.items():
                if key in _GAMMA_CLASSES and member and isinstance(member[0], dict):
                    walk(member, _GAMMA_CLASSES[key])

    for sample, cls in samples:
        walk(sample, cls)
    return out


def _real_gamma() -> dict[str, list[Any]]:
    names = ("btc_updown_5m", "closed_resolved", "sports_moneyline")
    markets = [(fixture(f"gamma_market_{name}.json"), "market") for name in names]
    return _gamma_objects([*markets, (fixture("gamma_events_negrisk.json"), "event")])


def _sim_gamma(served: Served) -> dict[str, list[Any]]:
    singles = [(served.body(f"gamma market {name}"), "market") for name in ("updown", "listed")]
    return _gamma_objects(
        [
            (served.body("gamma markets"), "market"),
            (served.body("gamma events"), "event"),
            (served.body("gamma series"), "series"),
            (served.body("gamma market resolved"), "market"),
            *singles,
        ]
    )


def real_samples(comparison: str) -> list[Any]:
    """The real captured objects of one comparison (polypy's are left out: its recorder
    rewrote timestamps as JSON numbers, which every other capture sends as strings)."""
    nautilus = _stream(NAUTILUS)
    page = fixture("rest_clob_markets_page.json")
    samples = {
        "initial book": [nautilus[0]],
        "later book": [fixture("ws_market_book.json"), nautilus[-1]],
        "price_change": [fixture("ws_market_price_change.json"), *nautilus[1:-1]],
        "clob book": [fixture("rest_clob_book.json")],
        "clob markets page": [page],
        "clob market": [
            *page["data"],
            fixture("rest_clob_market.json"),
            fixture("rest_clob_market_closed_resolved.json"),
        ],
    }
    if comparison in samples:
        return samples[comparison]
    if comparison in WS_COMPARISONS:
        return [fixture(f"ws_market_{comparison}.json")]
    return _real_gamma()[comparison.removeprefix("gamma ")]


def sim_samples(served: Served, comparison: str) -> list[Any]:
    """The simulator's objects of one comparison."""
    frames = served.ws
    if comparison == "initial book":
        return list(frames[0])
    if comparison in WS_COMPARISONS:
        wanted = "book" if comparison == "later book" else comparison
        return [frame for frame in frames[1:] if frame["event_type"] == wanted]
    page = served.body("clob markets")
    samples = {
        "clob book": [served.body("clob book"), *served.body("clob books")],
        "clob markets page": [page],
        "clob market": [
            *page["data"],
            served.body("clob market"),
            served.body("clob market resolved"),
        ],
    }
    if comparison in samples:
        return samples[comparison]
    return _sim_gamma(served)[comparison.removeprefix("gamma ")]


def _opaque(comparison: str) -> frozenset[str]:
    if comparison == "clob markets page":
        return frozenset({"data"})  # items are the "clob market" comparison
    return frozenset(_GAMMA_CLASSES) if comparison.startswith("gamma ") else frozenset()


# -- the comparison tools themselves ---------------------------------------------------------------


def test_differences_name_the_path_the_kinds_and_the_key() -> None:
    real = fixture("ws_market_price_change.json")
    ours = json.loads(json.dumps(real))  # a scratch copy, broken three ways
    for entry in ours["price_changes"]:
        entry["best_bid"] = float(entry["best_bid"])
    ours["sequence"] = 1
    del ours["timestamp"]
    assert differences(shape(real), shape(ours)) == [
        "price_changes[].best_bid: number != str",
        "sequence: extra",
        "timestamp: missing",
    ]


def test_differences_require_only_keys_every_capture_has() -> None:
    real = shape({"a": "1"}, {"a": "2", "b": None})
    assert differences(real, shape({"a": "3"})) == []
    assert differences(real, shape({"a": "3"}, {"b": None})) == ["a: missing"]
    assert differences(real, shape({"a": "3", "b": [1]})) == ["b: list != null"]
    assert differences(shape({"m": [{"x": 1}]}, opaque=frozenset({"m"})), shape({"m": []})) == []


def test_allow_lists_carry_a_reason_and_do_not_overlap() -> None:
    assert not _DELIBERATE.keys() & _SIM_GAPS.keys()
    known = set(WS_COMPARISONS + REST_COMPARISONS + CODEC_PAIRS)
    for (comparison, difference), reason in (_DELIBERATE | _SIM_GAPS).items():
        assert comparison in known, comparison
        assert re.fullmatch(r"[\w.\[\]]+: (missing|extra|[\w|]+ != [\w|]+)", difference)
        assert len(reason) > 10


# -- keys and JSON types ------------------------------------------------------------------------


@pytest.mark.parametrize("comparison", WS_COMPARISONS + REST_COMPARISONS)
def test_served_objects_have_the_captured_keys_and_types(served: Served, comparison: str) -> None:
    ours = sim_samples(served, comparison)
    assert ours, f"the session served no {comparison}"
    opaque = _opaque(comparison)
    real = shape(*real_samples(comparison), opaque=opaque)
    assert_listed(comparison, differences(real, shape(*ours, opaque=opaque)))


@pytest.mark.parametrize("comparison", ["initial book", "price_change"])
def test_keys_come_in_the_order_of_the_2026_capture(served: Served, comparison: str) -> None:
    real = real_samples(comparison)[-1]
    for ours in sim_samples(served, comparison):
        assert list(ours) == list(real)
        for entry in ours.get("price_changes", []):
            assert list(entry) == list(real["price_changes"][0])


def _codec_fields(struct: type[msgspec.Struct]) -> set[str]:
    return {info.encode_name for info in msgspec.structs.fields(struct)}


def _is_sports(market: Any) -> bool:
    return any(tag["slug"] == "sports" for tag in market["events"][0]["tags"])


def _pair(served: Served, name: str) -> tuple[Any, Any]:
    """A real Gamma market of one kind and the simulator's market of the same kind."""
    if name in ("updown", "resolved"):
        real = "btc_updown_5m" if name == "updown" else "closed_resolved"
        return fixture(f"gamma_market_{real}.json"), served.body(f"gamma market {name}")
    markets = served.body("gamma markets")
    if name == "sports":
        game = next(m for m in markets if _is_sports(m) and not m["negRisk"])
        return fixture("gamma_market_sports_moneyline.json"), game
    event = fixture("gamma_events_negrisk.json")[0]
    return {**event["markets"][0], "events": [event]}, next(m for m in markets if m["negRisk"])


@pytest.mark.parametrize("pair", CODEC_PAIRS)
def test_fields_our_codec_reads_are_served_for_each_kind_of_market(
    served: Served, pair: str
) -> None:
    real, ours = _pair(served, pair)
    missing = sorted(_codec_fields(GammaMarket) & real.keys() - ours.keys())
    real_event, our_event = real.get("events", [{}])[0], ours.get("events", [{}])[0]
    event_fields = _codec_fields(GammaEvent) - {"markets"}  # a market's events[] never nest them
    missing += [
        f"events[].{key}" for key in sorted(event_fields & real_event.keys() - our_event.keys())
    ]
    assert_listed(pair, [f"{key}: missing" for key in missing])


# -- level order and wire formats -----------------------------------------------------------------

REAL_BOOKS = [
    "ws_market_book.json",
    "rest_clob_book.json",
    NAUTILUS,
    POLYPY,
    "rest_books_polypy_messages_hash.jsonl",
]


def _rising(prices: list[Decimal]) -> bool:
    return all(low < high for low, high in itertools.pairwise(prices))


def _misordered(book: Any) -> list[str]:
    """What breaks the captures' order: bids ascending, asks descending, best level last."""
    bids = [Decimal(level["price"]) for level in book["bids"]]
    asks = [Decimal(level["price"]) for level in book["asks"]]
    problems = [] if _rising(bids) else [f"{book['asset_id'][:8]} bids {bids}"]
    return problems + ([] if _rising(asks[::-1]) else [f"{book['asset_id'][:8]} asks {asks}"])


@pytest.mark.parametrize("source", [*REAL_BOOKS, "simulator"])
def test_levels_are_listed_best_last(served: Served, source: str) -> None:
    if source == "simulator":
        books = [*sim_samples(served, "initial book"), *sim_samples(served, "later book")]
        books += sim_samples(served, "clob book")
    elif source.endswith(".jsonl"):
        books = [frame for frame in _stream(source) if "bids" in frame]
    else:
        books = [fixture(source)]
    assert books
    assert [problem for book in books for problem in _misordered(book)] == []


_DECIMAL = r"(0|[1-9]\d*)(\.\d*[1-9])?"  # no sign, exponent, leading dot or trailing zero
_TOKEN = r"[1-9]\d{0,77}"
_DECIMAL_KEYS = [
    "price",
    "size",
    "best_bid",
    "best_ask",
    "spread",
    "tick_size",
    "old_tick_size",
    "new_tick_size",
    "min_order_size",
    "order_price_min_tick_size",
]
_FORMATS = {
    **dict.fromkeys(_DECIMAL_KEYS, _DECIMAL),
    "last_trade_price": r"(\d\.\d{3,6})?",  # a book's: >= 3 decimals ("0.920"), "" before trades
    "timestamp": r"[1-9]\d{12}",  # ms
    "fee_rate_bps": r"0|[1-9]\d*",
    "hash": r"[0-9a-f]{40}",
    "id": r"[1-9]\d*",
    **dict.fromkeys(("market", "condition_id"), r"0x[0-9a-f]{64}"),
    **dict.fromkeys(("asset_id", "winning_asset_id", "assets_ids", "clob_token_ids"), _TOKEN),
}


def _strings(value: Any, key: str = "", path: str = "") -> Iterator[tuple[str, str, str]]:
    """(path, key, text) of every string leaf; list items go by their list's key."""
    if isinstance(value, dict):
        for name, member in value.items():
            yield from _strings(member, name, f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, key, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, key, value


def _ill_formatted(samples: list[Any]) -> tuple[int, list[str]]:
    checked = [(p, k, t) for sample in samples for p, k, t in _strings(sample) if k in _FORMATS]
    bad = [f"{p}={t!r}" for p, k, t in checked if not re.fullmatch(_FORMATS[k], t)]
    return len(checked), bad


def _real_clob_wire() -> list[Any]:
    ws = [fixture(path.name) for path in sorted(FIXTURES.glob("ws_market_*.json"))]
    streams = [NAUTILUS, POLYPY, "rest_books_polypy_messages_hash.jsonl"]
    return [fixture("rest_clob_book.json"), *ws, *(f for name in streams for f in _stream(name))]


@pytest.mark.parametrize("source", ["capture", "simulator"])
def test_clob_strings_follow_the_captured_formats(served: Served, source: str) -> None:
    if source == "capture":
        samples = _real_clob_wire()
    else:
        samples = [*served.ws, served.body("clob book"), *served.body("clob books")]
    checked, bad = _ill_formatted(samples)
    assert checked > 100
    assert not bad, f"{len(bad)} strings break the captured formats, e.g. {bad[:5]}"


_NUMBER = r"-?(0|[1-9]\d*)(\.\d*[1-9])?"  # JSON numbers: no exponent, no trailing zero


def _number_literals(text: str | bytes) -> list[str]:
    found: list[str] = []

    def keep(literal: str) -> int:
        found.append(literal)
        return 0

    json.loads(text, parse_float=keep, parse_int=keep)
    return found


@pytest.mark.parametrize("source", ["capture", "simulator"])
def test_json_numbers_follow_the_captured_format(served: Served, source: str) -> None:
    if source == "capture":
        texts = [path.read_text() for path in sorted(FIXTURES.glob("*.json"))]
    else:
        texts = [body.decode() for body in served.bodies.values()]
    literals = [literal for text in texts for literal in _number_literals(text)]
    assert len(literals) > 100
    bad = [literal for literal in literals if not re.fullmatch(_NUMBER, literal)]
    assert not bad, f"{len(bad)} JSON numbers break the captured format, e.g. {bad[:5]}"


_STRINGIFIED = ("outcomes", "outcomePrices", "clobTokenIds", "umaResolutionStatuses")


@pytest.mark.parametrize("source", ["capture", "simulator"])
def test_gamma_arrays_are_json_text_as_the_venue_writes_it(served: Served, source: str) -> None:
    markets = (_real_gamma() if source == "capture" else _sim_gamma(served))["market"]
    for market in markets:
        arrays = {key: market[key] for key in _STRINGIFIED if key in market}
        assert {"outcomes", "outcomePrices", "clobTokenIds"} <= arrays.keys()
        for key, text in arrays.items():
            decoded = json.loads(text)
            assert all(isinstance(item, str) for item in decoded), (key, text)
            assert text == json.dumps(decoded), (key, text)  # '["Yes", "No"]'
        outcomes = json.loads(arrays["outcomes"])
        assert len(json.loads(arrays["clobTokenIds"])) == len(outcomes)
        assert len(json.loads(arrays["outcomePrices"])) == len(outcomes)


# -- our codec reads every served frame and body back to the served values ------------------------


def _micro(text: str | None) -> int | None:
    return int(Decimal(text) * 1_000_000) if text else None


def _levels(levels: list[Any]) -> tuple[tuple[int | None, int | None], ...]:
    """Wire levels (best last) as our codec holds them (best first)."""
    return tuple((_micro(level["price"]), _micro(level["size"])) for level in reversed(levels))


def _check_book(raw: Any, event: Event) -> None:
    assert isinstance(event, BookSnapshot)
    assert (event.market, event.token, event.hash) == (raw["market"], raw["asset_id"], raw["hash"])
    assert event.ts_event == int(raw["timestamp"]) * 1_000_000
    assert (event.bids, event.asks) == (_levels(raw["bids"]), _levels(raw["asks"]))
    assert event.tick_size == _micro(raw.get("tick_size"))
    assert event.last_trade_price == _micro(raw.get("last_trade_price"))
    assert event.min_order_size == _micro(raw.get("min_order_size"))
    assert event.neg_risk == raw.get("neg_risk")


def _check_price_change(raw: Any, events: list[Event]) -> None:
    assert len(events) == len(raw["price_changes"])
    for entry, event in zip(raw["price_changes"], events, strict=True):
        assert isinstance(event, BookDelta)
        assert (event.market, event.token) == (raw["market"], entry["asset_id"])
        assert (event.side, event.hash) == (entry["side"], entry["hash"])
        assert (event.price, event.size) == (_micro(entry["price"]), _micro(entry["size"]))
        best = (_micro(entry["best_bid"]), _micro(entry["best_ask"]))
        assert (event.venue_best_bid, event.venue_best_ask) == best
        assert event.ts_event == int(raw["timestamp"]) * 1_000_000


def _check_trade(raw: Any, event: Event) -> None:
    assert isinstance(event, Trade)
    assert (event.token, event.price, event.size) == (
        raw["asset_id"],
        _micro(raw["price"]),
        _micro(raw["size"]),
    )
    assert (event.aggressor, event.fee_rate_bps) == (raw["side"], int(raw["fee_rate_bps"]))
    assert event.trade_id == event.transaction_hash == raw["transaction_hash"]


def _check_tick(raw: Any, event: Event) -> None:
    assert isinstance(event, TickSizeChanged)
    assert event.token == raw["asset_id"]
    ticks = (_micro(raw["old_tick_size"]), _micro(raw["new_tick_size"]))
    assert (event.old_tick_size, event.new_tick_size) == ticks


def _check_top(raw: Any, event: Event) -> None:
    assert isinstance(event, TopOfBook)
    bid, ask = _micro(raw["best_bid"]), _micro(raw["best_ask"])
    assert Decimal(raw["spread"]) == Decimal(raw["best_ask"]) - Decimal(raw["best_bid"])
    assert event.best_bid == (bid or None)  # "0": no bids
    assert event.best_ask == (None if ask == 1_000_000 else ask)  # "1": no asks


def _check_listed(raw: Any, event: Event) -> None:
    assert isinstance(event, MarketListed)
    assert (event.market, event.market_id, event.slug) == (raw["market"], raw["id"], raw["slug"])
    assert (event.tokens, event.outcomes) == (tuple(raw["assets_ids"]), tuple(raw["outcomes"]))
    assert event.tick_size == _micro(raw["order_price_min_tick_size"])
    assert (event.tags, event.event_slug) == (tuple(raw["tags"]), raw["event_message"]["slug"])
    assert (event.question, event.description) == (raw["question"], raw["description"])


def _check_resolved(raw: Any, event: Event) -> None:
    assert isinstance(event, MarketResolved)
    assert (event.market, event.market_id) == (raw["market"], raw["id"])
    assert event.tokens == tuple(raw["assets_ids"])
    winner = (raw["winning_asset_id"], raw["winning_outcome"])
    assert (event.winning_token, event.winning_outcome) == winner


def _one(check: Callable[[Any, Event], None]) -> Callable[[Any, list[Event]], None]:
    def checked(raw: Any, events: list[Event]) -> None:
        assert len(events) == 1
        check(raw, events[0])

    return checked


_CHECKS: dict[str, Callable[[Any, list[Event]], None]] = {
    "book": _one(_check_book),
    "price_change": _check_price_change,
    "last_trade_price": _one(_check_trade),
    "tick_size_change": _one(_check_tick),
    "best_bid_ask": _one(_check_top),
    "new_market": _one(_check_listed),
    "market_resolved": _one(_check_resolved),
}


def test_every_served_event_type_is_checked(served: Served) -> None:
    assert isinstance(served.ws[0], list)
    assert {frame["event_type"] for frame in served.ws[1:]} == set(_CHECKS)


def test_the_initial_array_parses_into_one_snapshot_per_book(served: Served) -> None:
    books = json.loads(served.frames[0])
    events = PolymarketParser().market_frame(served.frames[0].encode(), 0)
    assert len(events) == len(books) > 0
    for raw, event in zip(books, events, strict=True):
        _check_book(raw, event)


@pytest.mark.parametrize("event_type", list(_CHECKS))
def test_frames_parse_into_events_holding_the_served_values(
    served: Served, event_type: str
) -> None:
    parser = PolymarketParser()  # one per session, as the feed uses it
    frames = [(text, json.loads(text)) for text in served.frames[1:]]
    chosen = [(text, raw) for text, raw in frames if raw["event_type"] == event_type]
    assert chosen
    for text, raw in chosen:
        _CHECKS[event_type](raw, parser.market_frame(text.encode(), 0))


def test_rest_books_parse_into_the_served_levels(served: Served) -> None:
    _check_book(served.body("clob book"), parse_rest_book(served.bodies["clob book"], 0))
    raws = served.body("clob books")
    snapshots = parse_rest_books(served.bodies["clob books"], 0)
    assert len(snapshots) == len(raws) == 4
    for raw, snapshot in zip(raws, snapshots, strict=True):
        _check_book(raw, snapshot)


def _check_clob_market(raw: Any, market: Any) -> None:
    head = (market.condition_id, market.slug, market.question)
    assert head == (raw["condition_id"], raw["market_slug"], raw["question"])
    assert market.tokens == tuple(token["token_id"] for token in raw["tokens"])
    assert market.outcomes == tuple(token["outcome"] for token in raw["tokens"])
    assert market.outcome_prices == tuple(token["price"] for token in raw["tokens"])
    assert market.tick_size == _micro(str(raw["minimum_tick_size"]))
    assert market.min_order_size == _micro(str(raw["minimum_order_size"]))
    flags = (market.neg_risk, market.closed, market.accepting_orders)
    assert flags == (raw["neg_risk"], raw["closed"], raw["accepting_orders"])
    winners = [token["outcome"] for token in raw["tokens"] if token["winner"]]
    assert market.winning_outcome == (winners[0] if winners else None)


def test_clob_market_bodies_parse_without_drops(served: Served) -> None:
    raw = served.body("clob markets")
    page = gamma_parse.parse_clob_markets_page(served.bodies["clob markets"])
    assert (page.dropped, page.next_cursor) == ((), raw["next_cursor"])
    assert len(page.items) == len(raw["data"]) > 0
    for item, market in zip(raw["data"], page.items, strict=True):
        _check_clob_market(item, market)
    for name in ("clob market", "clob market resolved"):
        _check_clob_market(served.body(name), gamma_parse.parse_clob_market(served.bodies[name]))


def _check_gamma_market(raw: Any, market: Any, event_slug: str) -> None:
    head = (market.condition_id, market.slug, market.market_id, market.event_slug)
    assert head == (raw["conditionId"], raw["slug"], raw["id"], event_slug)
    assert market.outcomes == tuple(json.loads(raw["outcomes"]))
    assert market.tokens == tuple(json.loads(raw["clobTokenIds"]))
    assert market.outcome_prices == tuple(Decimal(p) for p in json.loads(raw["outcomePrices"]))
    assert market.tick_size == _micro(str(raw["orderPriceMinTickSize"]))
    flags = (market.neg_risk, market.closed, market.active)
    assert flags == (raw["negRisk"], raw["closed"], raw["active"])
    assert market.volume == Decimal(raw.get("volume", "0"))
    if "feeSchedule" in raw:
        assert market.fee_schedule is not None
        assert market.fee_schedule.rate == raw["feeSchedule"]["rate"]


def test_gamma_bodies_parse_without_drops(served: Served) -> None:
    raw_markets = served.body("gamma markets")
    markets = gamma_parse.parse_gamma_markets(served.bodies["gamma markets"])
    assert markets.dropped == ()
    assert len(markets.items) == len(raw_markets) > 0
    for raw, market in zip(raw_markets, markets.items, strict=True):
        _check_gamma_market(raw, market, raw["events"][0]["slug"])
    raw_events = served.body("gamma events")
    events = gamma_parse.parse_gamma_events(served.bodies["gamma events"])
    assert events.dropped == ()
    assert len(events.items) == len(raw_events) > 0
    for raw_event, event in zip(raw_events, events.items, strict=True):
        assert (event.slug, event.neg_risk) == (raw_event["slug"], raw_event["negRisk"])
        for raw, market in zip(raw_event["markets"], event.markets, strict=True):
            _check_gamma_market(raw, market, raw_event["slug"])
    raw_series = served.body("gamma series")
    series = gamma_parse.parse_gamma_series_list(served.bodies["gamma series"])
    assert series.dropped == ()
    expected = [(item["slug"], len(item["events"])) for item in raw_series]
    assert [(item.slug, len(item.events)) for item in series.items] == expected


def test_listing_and_resolution_agree_across_ws_clob_and_gamma(served: Served) -> None:
    parser = PolymarketParser()
    events = [e for text in served.frames[1:] for e in parser.market_frame(text.encode(), 0)]
    listed = next(e for e in events if isinstance(e, MarketListed))
    gamma_listed = gamma_parse.parse_gamma_market(served.bodies["gamma market listed"])
    assert listed.tokens == gamma_listed.tokens == served.listed.token_ids
    assert (listed.market, listed.slug) == (gamma_listed.condition_id, gamma_listed.slug)
    resolved = next(e for e in events if isinstance(e, MarketResolved))
    clob = gamma_parse.parse_clob_market(served.bodies["clob market resolved"])
    gamma = gamma_parse.parse_gamma_market(served.bodies["gamma market resolved"])
    winner = served.resolved.outcomes[1]
    assert resolved.winning_outcome == clob.winning_outcome == gamma.winning_outcome == winner
    assert resolved.winning_token == served.resolved.token_ids[1]
    assert clob.resolved and clob.closed and gamma.resolved and gamma.closed
