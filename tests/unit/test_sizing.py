from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prediction_engine.core.events import Side
from prediction_engine.core.fees import taker_fee
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import ONE
from prediction_engine.strategy import Signal, kelly_fraction, kelly_size, select

CRYPTO = FeeSchedule(rate=Decimal("0.07"))
M1, M2 = ConditionId("0x01"), ConditionId("0x02")
BANKROLL = 1_000 * ONE


def test_full_kelly_fraction_for_a_yes_buy() -> None:
    # (q - p) / (1 - p) = (0.6 - 0.4) / 0.6
    assert kelly_fraction(Side.BUY, 400_000, 0.6) == Fraction(1, 3)
    assert kelly_fraction(Side.BUY, 400_000, 1.0) == 1


def test_sell_is_the_mirror_of_buying_the_complement() -> None:
    # selling YES at 0.6 believing 0.4 == buying NO at 0.4 believing 0.6
    assert kelly_fraction(Side.SELL, 600_000, 0.4) == kelly_fraction(Side.BUY, 400_000, 0.6)
    assert kelly_fraction(Side.SELL, 600_000, 0.4) == Fraction(1, 3)


@pytest.mark.parametrize(
    ("side", "q"), [(Side.BUY, 0.4), (Side.BUY, 0.1), (Side.SELL, 0.4), (Side.SELL, 0.9)]
)
def test_no_edge_no_bet(side: Side, q: float) -> None:
    assert kelly_fraction(side, 400_000, q) == 0
    assert kelly_size(side, 400_000, q, BANKROLL) == 0


def test_half_kelly_size_in_shares_rounded_down() -> None:
    # 1/3 x 1/2 x $1000 = $166.67 at $0.40 = 416.666 shares -> 416.66
    assert kelly_size(Side.BUY, 400_000, 0.6, BANKROLL) == 416_660_000
    # SELL at 0.60 carries $0.40 of risk per share: same size
    assert kelly_size(Side.SELL, 600_000, 0.4, BANKROLL) == 416_660_000
    assert kelly_size(Side.BUY, 400_000, 0.6, BANKROLL, multiplier=1.0) == 833_330_000


def test_fees_shrink_the_edge_and_the_size() -> None:
    # cost 0.40 + 0.07 x 0.24 = 0.4168; f = 0.1832 / 0.5832; half of it x $1000 / 0.4168
    assert kelly_size(Side.BUY, 400_000, 0.6, BANKROLL, fee_schedule=CRYPTO) == 376_830_000
    assert kelly_fraction(Side.BUY, 400_000, 0.41, CRYPTO) == 0  # edge 0.01 < fee 0.0168


def test_bounded_by_the_risk_room_and_the_venue_minimum() -> None:
    assert kelly_size(Side.BUY, 400_000, 0.6, BANKROLL, max_notional=50 * ONE) == 125 * ONE
    assert kelly_size(Side.BUY, 400_000, 0.6, BANKROLL, max_notional=0) == 0
    assert kelly_size(Side.BUY, 400_000, 0.6, 10 * ONE, min_size=5 * ONE) == 0  # 4.16 shares
    assert kelly_size(Side.BUY, 400_000, 0.6, 10 * ONE, size_step=ONE) == 4 * ONE
    assert kelly_size(Side.BUY, 400_000, 0.6, -5 * ONE) == 0


@pytest.mark.parametrize(
    ("price", "q", "kwargs", "word"),
    [
        (0, 0.5, {}, "price"),
        (ONE, 0.5, {}, "price"),
        (500_000, 1.5, {}, "probability"),
        (500_000, float("nan"), {}, "probability"),
        (500_000, 0.6, {"multiplier": -0.5}, "multiplier"),
        (500_000, 0.6, {"size_step": 0}, "step"),
    ],
)
def test_rejects_nonsense(price: int, q: float, kwargs: dict[str, float], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        kelly_size(Side.BUY, price, q, BANKROLL, **kwargs)  # type: ignore[arg-type]


sides = st.sampled_from([Side.BUY, Side.SELL])
prices = st.integers(min_value=1, max_value=ONE - 1)
probabilities = st.floats(min_value=0, max_value=1)
bankrolls = st.integers(min_value=0, max_value=10**7 * ONE)
multipliers = st.floats(min_value=0, max_value=3)
schedules = st.sampled_from([None, CRYPTO, FeeSchedule(rate=Decimal("0.25"), exponent=2)])


@given(sides, prices, probabilities, bankrolls, multipliers, schedules)
def test_spend_never_exceeds_the_bankroll(
    side: Side,
    price: int,
    q: float,
    bankroll: int,
    multiplier: float,
    schedule: FeeSchedule | None,
) -> None:
    size = kelly_size(side, price, q, bankroll, multiplier=multiplier, fee_schedule=schedule)
    assert size >= 0 and size % 10_000 == 0
    cost_per_share = price if side is Side.BUY else ONE - price
    assert cost_per_share * size // ONE + taker_fee(size, price, schedule) <= bankroll


@given(sides, prices, probabilities, bankrolls)
def test_zero_for_non_positive_edge(side: Side, price: int, q: float, bankroll: int) -> None:
    edge = Fraction(repr(q)) - Fraction(price, ONE)
    if side is Side.SELL:
        edge = -edge
    if edge <= 0:
        assert kelly_fraction(side, price, q) == 0
        assert kelly_size(side, price, q, bankroll) == 0
    else:
        assert 0 < kelly_fraction(side, price, q) <= 1


@given(sides, prices, probabilities, probabilities)
def test_more_conviction_never_means_a_smaller_bet(
    side: Side, price: int, a: float, b: float
) -> None:
    low, high = sorted((a, b)) if side is Side.BUY else sorted((a, b), reverse=True)
    assert kelly_fraction(side, price, low) <= kelly_fraction(side, price, high)


def signal(market: ConditionId, token: str, edge: float, confidence: float) -> Signal:
    return Signal(
        market=market,
        token=TokenId(token),
        side=Side.BUY,
        edge=edge,
        confidence=confidence,
        fair_price=0.5,
    )


def test_select_highest_edge_times_confidence_per_market() -> None:
    a = signal(M1, "1", 0.10, 0.5)  # 0.05
    b = signal(M1, "2", 0.06, 1.0)  # 0.06 wins M1
    c = signal(M2, "3", 0.20, 0.1)  # 0.02 wins M2
    d = signal(M2, "4", -0.3, 1.0)  # no edge
    assert select([a, b, c, d]) == {M1: b, M2: c}
    assert list(select([c, a, b])) == [M2, M1]


def test_select_ties_go_to_the_first_and_no_edge_never_wins() -> None:
    a, b = signal(M1, "1", 0.1, 0.5), signal(M1, "2", 0.05, 1.0)
    assert select([a, b]) == {M1: a}
    assert select([b, a]) == {M1: b}
    assert select([signal(M1, "1", 0.0, 1.0), signal(M2, "2", 0.3, 0.0)]) == {}


@pytest.mark.parametrize(
    ("edge", "confidence", "fair"),
    [(float("nan"), 0.5, 0.5), (0.1, 1.5, 0.5), (0.1, -0.1, 0.5), (0.1, 0.5, 1.2)],
)
def test_signal_validation(edge: float, confidence: float, fair: float) -> None:
    with pytest.raises(ValueError, match="signal"):
        Signal(
            market=M1,
            token=TokenId("1"),
            side=Side.BUY,
            edge=edge,
            confidence=confidence,
            fair_price=fair,
        )


def _reference_size(side: Side, price: int, q: float, bankroll: int, multiplier: float,
                    schedule: FeeSchedule | None, room: int | None, step: int) -> int:
    """The sizing rule written out in ``Fraction``s, as the module docstring states it."""
    p, prob = Fraction(price, ONE), Fraction(repr(q))
    fee = (Fraction(schedule.rate) * (p * (1 - p)) ** schedule.exponent) if schedule else 0
    cost, q_pays = (p + fee, prob) if side is Side.BUY else (1 - p + fee, 1 - prob)
    kelly = Fraction(0) if cost >= 1 or q_pays <= cost else (q_pays - cost) / (1 - cost)
    budget = min(kelly * Fraction(multiplier), Fraction(1)) * max(bankroll, 0)
    if room is not None:
        budget = min(budget, Fraction(max(room, 0)))
    return int(budget / cost) // step * step


@given(
    side=st.sampled_from([Side.BUY, Side.SELL]),
    price=st.integers(1, ONE - 1),
    q=st.floats(0, 1),
    bankroll=st.integers(-10 * ONE, 10**6 * ONE),
    multiplier=st.floats(0, 2),
    schedule=st.none() | st.builds(
        FeeSchedule, rate=st.decimals(0, 1, places=4), exponent=st.integers(0, 3)),
    room=st.none() | st.integers(-ONE, 10**5 * ONE),
    step=st.sampled_from([1, ONE // 100, ONE]),
)
def test_integer_sizing_is_the_exact_fraction_rule(
    side: Side, price: int, q: float, bankroll: int, multiplier: float,
    schedule: FeeSchedule | None, room: int | None, step: int,
) -> None:
    expected = _reference_size(side, price, q, bankroll, multiplier, schedule, room, step)
    assert kelly_size(side, price, q, bankroll, multiplier=multiplier, fee_schedule=schedule,
                      max_notional=room, size_step=step) == expected
