"""Static listing data of the default simulated world: questions, tags, fee schedules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prediction_engine.sim.polymarket import model as _catalog


@dataclass(frozen=True)
class BinaryRow:
    """One binary market to list (fair price and tick as decimal strings).

    A sports game sets `kickoff_utc` ("HH:MM" UTC on the day `days_to_end` days after the
    clock start) and its league's `series_slug`.
    """

    slug: str
    question: str
    description: str
    tags: tuple[str, ...]
    fair: str
    tick: str = "0.01"
    days_to_end: int = 30
    outcomes: tuple[str, str] = ("Yes", "No")
    fee: str | None = None
    winner: int | None = None
    traded: bool = True
    kickoff_utc: str | None = None
    series_slug: str | None = None


@dataclass(frozen=True)
class NegRiskRow:
    """A neg-risk event; `question` has one `{}` for the outcome title."""

    slug: str
    title: str
    question: str
    description: str
    tags: tuple[str, ...]
    outcomes: tuple[tuple[str, str], ...]
    fee: str | None = None


TAGS: dict[str, tuple[str, str]] = {
    "politics": ("2", "Politics"),
    "crypto": ("21", "Crypto"),
    "crypto-prices": ("1312", "Crypto Prices"),
    "up-or-down": ("102127", "Up or Down"),
    "recurring": ("101757", "Recurring"),
    "economy": ("100328", "Economy"),
    "fed-rates": ("100196", "Fed Rates"),
    "sports": ("1", "Sports"),
    "nba": ("745", "NBA"),
    "tech": ("1401", "Tech"),
    "ai": ("439", "AI"),
    "weather": ("84", "Weather"),
    "geopolitics": ("100265", "Geopolitics"),
    "culture": ("596", "Culture"),
    "other": ("101900", "Other"),
}

FEES: dict[str, _catalog.FeeSchedule] = {
    "crypto": _catalog.FeeSchedule("0.07", "0.2", "crypto_fees"),
    "sports": _catalog.FeeSchedule("0.03", "0.25", "sports_fees_v2"),
    "economics": _catalog.FeeSchedule("0.05", "0.2", "economics_fees"),
    "tech": _catalog.FeeSchedule("0.04", "0.25", "tech_fees"),
    "weather": _catalog.FeeSchedule("0.05", "0.2", "weather_fees"),
}

_RESOLVES = (
    'This market will resolve to "Yes" if {}. Otherwise, this market will resolve to "No".'
    "\n\nThe resolution source for this market will be {}."
)

BINARIES: tuple[BinaryRow, ...] = (
    BinaryRow(
        "fed-cuts-rates-at-june-2026-meeting",
        "Will the Fed cut rates at the June 2026 meeting?",
        _RESOLVES.format(
            "the FOMC lowers the federal funds target range at its June 2026 meeting",
            "the official FOMC statement",
        ),
        ("economy", "fed-rates"),
        "0.42",
        fee="economics",
        days_to_end=95,
    ),
    BinaryRow(
        "will-bitcoin-reach-150k-by-december-31-2026",
        "Will Bitcoin reach $150,000 by December 31, 2026?",
        _RESOLVES.format(
            "any Binance 1 minute candle for BTC/USDT has a final High price of "
            "$150,000 or higher before the end date",
            "Binance",
        ),
        ("crypto", "crypto-prices"),
        "0.23",
        fee="crypto",
        days_to_end=290,
    ),
    BinaryRow(
        "nba-lal-bos-2026-03-14",
        "Lakers vs. Celtics",
        'This market will resolve to "Lakers" if the Los Angeles Lakers win the game against '
        'the Boston Celtics. Otherwise it will resolve to "Celtics".',
        ("sports", "nba"),
        "0.47",
        outcomes=("Lakers", "Celtics"),
        fee="sports",
        days_to_end=2,
        kickoff_utc="23:30",  # 7:30 PM ET at TD Garden
        series_slug="nba",
    ),
    BinaryRow(
        "will-openai-release-gpt-6-before-2027",
        "Will OpenAI release GPT-6 before 2027?",
        _RESOLVES.format(
            "OpenAI makes a model named GPT-6 publicly available before January 1, 2027",
            "official OpenAI announcements",
        ),
        ("tech", "ai"),
        "0.185",
        tick="0.001",
        fee="tech",
        days_to_end=294,
    ),
    BinaryRow(
        "will-it-rain-in-london-on-march-15",
        "Will it rain in London on March 15?",
        _RESOLVES.format(
            "at least 0.2 mm of precipitation is recorded at London Heathrow on March 15, 2026",
            "the Met Office",
        ),
        ("weather",),
        "0.64",
        fee="weather",
        days_to_end=3,
    ),
    BinaryRow(
        "russia-x-ukraine-ceasefire-by-end-of-2027",
        "Russia x Ukraine ceasefire by end of 2027?",
        _RESOLVES.format(
            "there is an official ceasefire agreement between Russia and Ukraine "
            "by December 31, 2027",
            "official announcements from both countries",
        ),
        ("politics", "geopolitics"),
        "0.35",
        days_to_end=660,
    ),
    BinaryRow(
        "will-sweden-win-eurovision-2025",
        "Will Sweden win Eurovision 2025?",
        _RESOLVES.format("Sweden wins the Eurovision Song Contest 2025", "the EBU"),
        ("culture",),
        "0.5",
        days_to_end=-300,
        winner=1,
    ),
)

NEG_RISK = NegRiskRow(
    slug="2026-nba-champion",
    title="2026 NBA Champion",
    question="Will the {} win the 2026 NBA Finals?",
    description='This market will resolve to "Yes" if the named team wins the 2026 NBA '
    'Finals. Otherwise, this market will resolve to "No".',
    tags=("sports", "nba"),
    outcomes=(
        ("Oklahoma City Thunder", "0.305"),
        ("Boston Celtics", "0.218"),
        ("Denver Nuggets", "0.124"),
        ("New York Knicks", "0.081"),
        ("Another team", "0.272"),
    ),
    fee="sports",
)

_ASSETS = {"btc": "Bitcoin", "eth": "Ethereum", "sol": "Solana", "xrp": "XRP"}


def tags(keys: tuple[str, ...]) -> tuple[_catalog.Tag, ...]:
    """Tag objects for tag keys."""
    return tuple(_catalog.Tag(TAGS[key][0], TAGS[key][1], key) for key in keys)


def slugify(text: str) -> str:
    """Lower-case, hyphen-separated slug."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def filler(index: int) -> BinaryRow:
    """A plain market used to make listings long enough to paginate."""
    return BinaryRow(
        f"sim-filler-market-{index:04d}",
        f"Will simulated event #{index} happen in 2026?",
        _RESOLVES.format(f"simulated event #{index} happens in 2026", "the simulator"),
        ("other",),
        "0.5",
        days_to_end=290,
        traded=False,
    )


def chainlink(asset: str) -> str:
    """Resolution source of a crypto Up/Down market."""
    return f"https://data.chain.link/streams/{asset}-usd"


def updown_series(asset: str, minutes: int) -> _catalog.Series:
    """The recurring series an Up/Down window belongs to."""
    slug = f"{asset}-up-or-down-{minutes}m"
    series_id = str(10684 + 10 * list(_ASSETS).index(asset) + minutes)
    return _catalog.Series(series_id, slug, f"{asset.upper()} Up or Down {minutes}m", f"{minutes}m")


def updown_row(asset: str, minutes: int, start_s: int) -> BinaryRow:
    """Listing text of one Up/Down window."""
    name = _ASSETS[asset]
    title = f"{name} Up or Down - {_et_window(start_s, minutes)} ET"
    description = (
        f'This market will resolve to "Up" if the {name} price at the end of the time range '
        "specified in the title is greater than or equal to the price at the beginning of that "
        f'range. Otherwise, it will resolve to "Down".\nThe resolution source for this market '
        f"is information from Chainlink, specifically the {asset.upper()}/USD data stream "
        f"available at {chainlink(asset)}."
    )
    return BinaryRow(
        _catalog.updown_slug(asset, minutes, start_s),
        title,
        description,
        ("crypto", "up-or-down", "recurring", "crypto-prices"),
        "0.5",
        outcomes=("Up", "Down"),
        fee="crypto",
        days_to_end=0,
    )


def _et_window(start_s: int, minutes: int) -> str:
    begin = _eastern(start_s)
    end = _eastern(start_s + minutes * 60)
    return f"{begin:%B} {begin.day}, {_clock(begin)}-{_clock(end)}"


def _clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment:%M%p}"


def _eastern(ts_s: int) -> datetime:
    # US Eastern without tzdata: DST from the 2nd Sunday of March to the 1st Sunday of Nov.
    utc = datetime.fromtimestamp(ts_s, UTC)
    dst_start = _nth_sunday(utc.year, 3, 2).replace(hour=7)
    dst_end = _nth_sunday(utc.year, 11, 1).replace(hour=6)
    offset = -4 if dst_start <= utc < dst_end else -5
    return utc + timedelta(hours=offset)


def _nth_sunday(year: int, month: int, nth: int) -> datetime:
    first = datetime(year, month, 1, tzinfo=UTC)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (nth - 1))
