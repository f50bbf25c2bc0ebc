from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prediction_engine.core.events import MarketResolved, Side
from prediction_engine.core.ids import ConditionId, TokenId, Venue
from prediction_engine.core.numbers import ONE
from prediction_engine.core.portfolio import Fill, Portfolio

MARKET = ConditionId("0x" + "ab" * 32)
YES, NO, OTHER = TokenId("1"), TokenId("2"), TokenId("3")


def fill(token: TokenId, side: Side, price: int, size: int, fee: int = 0) -> Fill:
    return Fill(market=MARKET, token=token, side=side, price=price, size=size, fee=fee)


def test_buy_then_partial_sell_realizes_against_average_cost() -> None:
    book = Portfolio(cash=1_000 * ONE)
    book.apply_fill(fill(YES, Side.BUY, 400_000, 100 * ONE, fee=1_680_000))
    book.apply_fill(fill(YES, Side.BUY, 500_000, 100 * ONE))
    position = book.apply_fill(fill(YES, Side.SELL, 600_000, 50 * ONE, fee=10))
    # average cost 0.45: 50 x (0.60 - 0.45) = 7.5
    assert position.realized == book.realized == 7_500_000
    assert (position.shares, position.basis) == (150 * ONE, 67_500_000)
    assert position.average_price == Decimal("0.45")
    assert book.fees == position.fees == 1_680_010
    assert book.cash == 1_000 * ONE - 40 * ONE - 50 * ONE + 30 * ONE - 1_680_010


def test_fill_through_zero_opens_the_other_way() -> None:
    book = Portfolio(cash=100 * ONE)
    book.apply_fill(fill(YES, Side.BUY, 400_000, 10 * ONE))
    position = book.apply_fill(fill(YES, Side.SELL, 500_000, 15 * ONE))
    assert book.realized == ONE  # 10 x 0.10
    assert (position.shares, position.basis) == (-5 * ONE, -2_500_000)
    position = book.apply_fill(fill(YES, Side.BUY, 300_000, 5 * ONE))
    assert (position.shares, position.basis) == (0, 0)
    assert book.realized == ONE + ONE  # short 5 at 0.50, covered at 0.30
    assert position.average_price is None


def test_resolution_pays_the_winner_one_per_share() -> None:
    book = Portfolio(cash=100 * ONE)
    book.apply_fill(fill(YES, Side.BUY, 400_000, 100 * ONE))
    book.apply_fill(fill(NO, Side.BUY, 550_000, 20 * ONE))
    event = MarketResolved(
        venue=Venue.POLYMARKET,
        ts_event=1,
        ts_recv=2,
        market=MARKET,
        market_id="1",
        tokens=(YES, NO),
        winning_token=YES,
        winning_outcome="Yes",
    )
    assert book.resolve(event) == 100 * ONE
    assert book.realized == 60 * ONE - 11 * ONE
    assert book.cash == 100 * ONE - 40 * ONE - 11 * ONE + 100 * ONE
    assert list(book.open_positions()) == []
    assert book.shares(YES) == book.shares(NO) == 0
    assert book.resolve(event) == 0  # settling twice pays nothing more


def test_mark_to_market_and_unmarked_tokens() -> None:
    book = Portfolio(cash=100 * ONE)
    book.apply_fill(fill(YES, Side.BUY, 400_000, 10 * ONE, fee=50_000))
    book.apply_fill(fill(OTHER, Side.BUY, 200_000, 10 * ONE))
    valuation = book.mark({YES: 450_000})
    assert valuation.market_value == 4_500_000 + 2 * ONE
    assert valuation.unrealized == 500_000
    assert valuation.unmarked == (OTHER,)
    assert valuation.equity == 100 * ONE - 50_000 + 500_000
    assert book.position(NO) is None


@pytest.mark.parametrize(
    ("price", "size", "fee"), [(500_000, 0, 0), (ONE + 1, ONE, 0), (500_000, ONE, -1)]
)
def test_fill_validation(price: int, size: int, fee: int) -> None:
    with pytest.raises(ValueError, match="fill"):
        fill(YES, Side.BUY, price, size, fee)


# --- properties against a naive reference model --------------------------------------------

fills = st.lists(
    st.builds(
        fill,
        st.sampled_from([YES, NO, OTHER]),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(min_value=1, max_value=999).map(lambda c: c * 1_000),
        st.integers(min_value=1, max_value=10**9),
        st.integers(min_value=0, max_value=10**6),
    ),
    max_size=40,
)
marks = st.dictionaries(
    st.sampled_from([YES, NO, OTHER]), st.integers(min_value=0, max_value=ONE), max_size=3
)


def reference_realized(fs: list[Fill]) -> Fraction:
    """Average cost PnL in exact rationals, one token at a time."""
    realized = Fraction(0)
    held: dict[TokenId, tuple[int, Fraction]] = {}
    for f in fs:
        shares, basis = held.get(f.token, (0, Fraction(0)))
        direction = 1 if f.side is Side.BUY else -1
        unit_cost = Fraction(f.notional, f.size)
        remaining = f.size
        if shares and (shares > 0) != (direction > 0):
            closed = min(remaining, abs(shares))
            released = basis * closed / abs(shares)
            realized += -direction * unit_cost * closed - released
            shares, basis = shares + direction * closed, basis - released
            remaining -= closed
        shares += direction * remaining
        basis += direction * unit_cost * remaining
        held[f.token] = (shares, basis)
    return realized


@given(fills, marks)
def test_ledger_reconciles_to_the_micro_unit(fs: list[Fill], prices: dict[TokenId, int]) -> None:
    book = Portfolio(cash=10**6 * ONE)
    for f in fs:
        book.apply_fill(f)
    for token in (YES, NO, OTHER):
        signed = sum(f.size if f.side is Side.BUY else -f.size for f in fs if f.token == token)
        assert book.shares(token) == signed
    v = book.mark(prices)
    assert v.fees == sum(f.fee for f in fs)
    assert v.cash + v.market_value == book.starting_cash + v.realized + v.unrealized - v.fees
    assert sum(p.realized for p in book.positions.values()) == book.realized
    # Floors of the released basis drift by at most one micro-unit per fill.
    assert abs(book.realized - reference_realized(fs)) <= 2 * len(fs)


@given(fills, st.sampled_from([YES, NO, OTHER]))
def test_settlement_closes_everything_and_leaves_only_cash(fs: list[Fill], winner: TokenId) -> None:
    book = Portfolio(cash=0)
    for f in fs:
        book.apply_fill(f)
    held = {t: book.shares(t) for t in (YES, NO, OTHER)}
    received = book.settle({t: ONE if t == winner else 0 for t in (YES, NO, OTHER)})
    assert received == held[winner]
    assert list(book.open_positions()) == []
    v = book.mark({})
    assert (v.market_value, v.unrealized) == (0, 0)
    assert book.cash == book.realized - book.fees
