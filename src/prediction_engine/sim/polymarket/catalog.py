"""Build what the simulated venue lists, deterministically from the world's RNG (pure).

Identifiers (token ids, condition ids) come from the world's `random.Random`, so one seed
always lists the same markets. Crypto Up/Down markets follow the live naming: slug
`{asset}-updown-{N}m-{window_start}` in series `{asset}-up-or-down-{N}m`, where
`window_start` is the configured clock start aligned down to N minutes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from prediction_engine.sim.polymarket import texts
from prediction_engine.sim.polymarket.model import (
    Catalog,
    Event,
    Market,
    Series,
    updown_window_start,
)
from prediction_engine.sim.polymarket.units import parse

_GAME_S = 6 * 3600  # a game market ends 6 hours after kick-off (the captured one did)


def _kickoff_s(row: texts.BinaryRow, now_s: int) -> int | None:
    """Kick-off of a game row: `kickoff_utc` on the day `days_to_end` days after `now_s`."""
    if row.kickoff_utc is None:
        return None
    hours, minutes = row.kickoff_utc.split(":")
    day = now_s + row.days_to_end * 86400
    return day - day % 86400 + int(hours) * 3600 + int(minutes) * 60


class _Ids:
    """Deterministic identifier source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next_market = 1557558
        self.next_event = 260654

    def hex32(self) -> str:
        return f"0x{self.rng.getrandbits(256):064x}"

    def token(self) -> str:
        return str(self.rng.randrange(10**75, 2**256))

    def market_id(self) -> str:
        self.next_market += 1
        return str(self.next_market)

    def event_id(self) -> str:
        self.next_event += 1
        return str(self.next_event)


@dataclass(frozen=True)
class CatalogSpec:
    """What to list besides the fixed default markets."""

    clock_start_s: int
    updown_assets: tuple[str, ...] = ("btc", "eth")
    updown_windows: int = 2
    extra_markets: int = 0
    updown_minutes: tuple[int, ...] = (5, 15)


class CatalogBuilder:
    """Build the default listing; also lists single markets later (`new_market`)."""

    def __init__(self, rng: random.Random, clock_start_s: int) -> None:
        self.ids = _Ids(rng)
        self.rng = rng
        self.now_s = clock_start_s

    def build(self, spec: CatalogSpec) -> Catalog:
        """Default world: ordinary binaries, a neg-risk event, Up/Down windows, fillers."""
        catalog = Catalog()
        for row in texts.BINARIES:
            event, market = self.binary(row)
            catalog.add(event, [market])
        event, markets = self.neg_risk(texts.NEG_RISK)
        catalog.add(event, markets)
        self._add_updown(catalog, spec)
        for index in range(spec.extra_markets):
            event, market = self.binary(texts.filler(index))
            catalog.add(event, [market])
        return catalog

    def binary(self, row: texts.BinaryRow) -> tuple[Event, Market]:
        """One event holding one binary market."""
        created = self.now_s - self.rng.randint(5, 90) * 86400 + self.rng.randint(0, 86399)
        kickoff = _kickoff_s(row, self.now_s)
        end = self.now_s + row.days_to_end * 86400 if kickoff is None else kickoff + _GAME_S
        event = Event(
            self.ids.event_id(),
            row.slug,
            row.question,
            row.description,
            texts.tags(row.tags),
            created,
            end,
            start_time_s=kickoff,
            series_slug=row.series_slug,
        )
        market = self._market(event, row, created)
        market.event_start_s = market.game_start_s = kickoff
        market.closed = row.winner is not None
        market.winner = row.winner
        return event, market

    def neg_risk(self, row: texts.NegRiskRow) -> tuple[Event, list[Market]]:
        """A neg-risk event with one Yes/No market per named outcome."""
        neg_risk_id = self.ids.hex32()[:-2] + "00"
        created = self.now_s - 200 * 86400
        event = Event(
            self.ids.event_id(),
            row.slug,
            row.title,
            row.description,
            texts.tags(row.tags),
            created,
            self.now_s + 120 * 86400,
            neg_risk_market_id=neg_risk_id,
        )
        markets = []
        for index, (title, fair_text) in enumerate(row.outcomes, start=1):
            binary = texts.BinaryRow(
                slug=f"{texts.slugify(row.question.format(title))}-{index}",
                question=row.question.format(title),
                description=row.description,
                tags=row.tags,
                fair=fair_text,
                tick="0.001",
                days_to_end=120,
                fee=row.fee,
            )
            market = self._market(event, binary, created)
            market.question_id = f"{neg_risk_id[:-2]}{index:02x}"
            market.neg_risk_request_id = self.ids.hex32()
            market.group_item_title = title
            markets.append(market)
        return event, markets

    def _add_updown(self, catalog: Catalog, spec: CatalogSpec) -> None:
        for minutes in spec.updown_minutes:
            for asset in spec.updown_assets:
                series = texts.updown_series(asset, minutes)
                catalog.series.append(series)
                first = updown_window_start(self.now_s, minutes)
                for window in range(spec.updown_windows):
                    start = first + window * minutes * 60
                    catalog.add(*self.updown(series, asset, minutes, start))

    def updown(
        self, series: Series, asset: str, minutes: int, start: int
    ) -> tuple[Event, list[Market]]:
        row = texts.updown_row(asset, minutes, start)
        created = start - 86400 + self.rng.randint(0, 3600)
        event = Event(
            self.ids.event_id(),
            row.slug,
            row.question,
            row.description,
            texts.tags(row.tags),
            created,
            start + minutes * 60,
            series=series,
            start_time_s=start,
            resolution_source=texts.chainlink(asset),
        )
        market = self._market(event, row, created)
        market.event_start_s = start
        return event, [market]

    def _market(self, event: Event, row: texts.BinaryRow, created: int) -> Market:
        return Market(
            id=self.ids.market_id(),
            condition_id=self.ids.hex32(),
            question_id=self.ids.hex32(),
            slug=row.slug,
            question=row.question,
            description=row.description,
            outcomes=row.outcomes,
            token_ids=(self.ids.token(), self.ids.token()),
            event=event,
            tick=parse(row.tick),
            fair=parse(row.fair),
            created_s=created,
            end_s=event.end_s,
            fee=texts.FEES.get(row.fee) if row.fee else None,
            base_volume=self.rng.randint(1_000, 5_000_000) * 10_000 if row.traded else 0,
            traded=row.traded,
        )
