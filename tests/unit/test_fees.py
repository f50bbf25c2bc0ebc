from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prediction_engine.core.fees import FEE_QUANTUM, fill_fee, taker_fee, taker_fee_at_rate
from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import ONE, parse_micro

CRYPTO = FeeSchedule(rate=Decimal("0.07"), rebate_rate=Decimal("0.2"))
OLD_CRYPTO = FeeSchedule(rate=Decimal("0.25"), exponent=2)  # early-2026 schedule

shares = st.integers(min_value=0, max_value=10**7 * ONE)
prices = st.integers(min_value=0, max_value=ONE)
rates = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)


def usd(text: str) -> int:
    return parse_micro(text)


def test_hand_computed_100_shares_at_half_crypto_rate() -> None:
    # 100 x 0.07 x 0.5 x 0.5 = 1.75 USDC
    assert taker_fee(100 * ONE, 500_000, CRYPTO) == usd("1.75")


@pytest.mark.parametrize(
    ("shares", "price", "fee"),
    [
        # Polymarket's published cases (py-clob-client-v2 tests/test_fee_calculations.py):
        # 100 contracts, rate 0.25, exponent 2, floored to 5 decimals.
        ("100", "0.5", "1.5625"),
        ("100", "0.3", "1.1025"),
        ("100", "0.7", "1.1025"),
        ("100", "0.1", "0.2025"),
        ("100", "0.9", "0.2025"),
        ("100", "0.05", "0.0564"),  # exact 0.05640625
        ("100", "0.95", "0.0564"),
        ("100", "0.01", "0.00245"),  # exact 0.00245025
        ("100", "0.99", "0.00245"),
        ("125.5", "0.5", "1.96093"),  # exact 1.9609375
    ],
)
def test_published_exponent_two_schedule(shares: str, price: str, fee: str) -> None:
    assert taker_fee(usd(shares), usd(price), OLD_CRYPTO) == usd(fee)


@pytest.mark.parametrize(
    ("rate", "fee"),
    # Same source, V2 production rates: $100 spent at p=0.5 is 200 shares.
    [("0.03", "1.5"), ("0.04", "2"), ("0.05", "2.5"), ("0.072", "3.6")],
)
def test_published_v2_rates_at_half(rate: str, fee: str) -> None:
    assert taker_fee_at_rate(200 * ONE, 500_000, Decimal(rate)) == usd(fee)


def test_rounds_down_at_the_fifth_decimal() -> None:
    # 1 share x 0.07 x 0.33 x 0.67 = 0.015477 -> 0.01547 (not rounded up to 0.01548)
    assert taker_fee(ONE, 330_000, CRYPTO) == usd("0.01547")
    # 0.000001 x ... is far below 0.00001: nothing
    assert taker_fee(1, 500_000, CRYPTO) == 0
    # 0.0572 shares: 0.0572 x 0.07 x 0.25 = 0.001001 -> 0.001
    assert taker_fee(57_200, 500_000, CRYPTO) == usd("0.001")


def test_no_schedule_and_geopolitics_are_free() -> None:
    assert taker_fee(100 * ONE, 500_000, None) == 0
    assert taker_fee(100 * ONE, 500_000, FeeSchedule(rate=Decimal(0))) == 0


def test_makers_pay_nothing() -> None:
    assert fill_fee(100 * ONE, 500_000, CRYPTO, taker=False) == 0
    assert fill_fee(100 * ONE, 500_000, CRYPTO, taker=True) == usd("1.75")
    both_sides = FeeSchedule(rate=Decimal("0.07"), taker_only=False)
    assert fill_fee(100 * ONE, 500_000, both_sides, taker=False) == usd("1.75")


def test_zero_at_the_edges_of_the_price_range() -> None:
    assert taker_fee(100 * ONE, 0, CRYPTO) == 0
    assert taker_fee(100 * ONE, ONE, CRYPTO) == 0


@pytest.mark.parametrize(
    ("shares", "price", "rate", "exponent"),
    [
        (-1, 500_000, Decimal("0.07"), 1),
        (ONE, -1, Decimal("0.07"), 1),
        (ONE, ONE + 1, Decimal("0.07"), 1),
        (ONE, 500_000, Decimal("-0.01"), 1),
        (ONE, 500_000, Decimal("NaN"), 1),
        (ONE, 500_000, Decimal("0.07"), -1),
    ],
)
def test_rejects_nonsense(shares: int, price: int, rate: Decimal, exponent: int) -> None:
    with pytest.raises(ValueError, match="fee"):
        taker_fee_at_rate(shares, price, rate, exponent)


@given(shares, prices, rates)
def test_fee_is_floored_exact_value(size: int, price: int, rate: Decimal) -> None:
    exact = Decimal(size) * rate * Decimal(price) * Decimal(ONE - price) / Decimal(ONE) ** 2
    fee = taker_fee_at_rate(size, price, rate)
    assert fee % FEE_QUANTUM == 0
    assert fee <= exact < fee + FEE_QUANTUM


@given(shares, shares, prices, rates)
def test_monotone_in_shares(a: int, b: int, price: int, rate: Decimal) -> None:
    small, large = sorted((a, b))
    assert taker_fee_at_rate(small, price, rate) <= taker_fee_at_rate(large, price, rate)


@given(shares, prices, rates, st.integers(min_value=0, max_value=3))
def test_symmetric_in_price(size: int, price: int, rate: Decimal, exponent: int) -> None:
    assert taker_fee_at_rate(size, price, rate, exponent) == taker_fee_at_rate(
        size, ONE - price, rate, exponent
    )


@given(shares, prices, st.integers(min_value=0, max_value=3))
def test_zero_at_rate_zero(size: int, price: int, exponent: int) -> None:
    assert taker_fee_at_rate(size, price, Decimal(0), exponent) == 0


@given(shares, prices)
def test_never_above_a_quarter_of_rate_per_share(size: int, price: int) -> None:
    # p(1-p) peaks at 1/4: the fee is at most shares x rate / 4.
    assert taker_fee(size, price, CRYPTO) * 4 <= size * Decimal("0.07")
