"""Safety limits: each refuses with its figures, the limit itself is allowed, the window forgets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hedgekeeper.config import validate
from hedgekeeper.errors import ConfigError, SafetyLimitBreached
from hedgekeeper.execution.safety import SafetyGuard, SafetyLimits
from hedgekeeper.portfolio.instruments import example_instruments
from hedgekeeper.portfolio.values import Price, Quantity
from hedgekeeper.venues.orders import OrderRequest, Side

SECOND_NS = 1_000_000_000
LIMITS = {
    "max_order_coin": 10.0,
    "max_order_coin_by_instrument": {"ETH-PERP": 100.0},
    "max_order_notional_usd": 500_000.0,
    "max_notional_per_window_usd": 1_000_000.0,
    "notional_window_s": 60.0,
    "price_collar_bps": 50.0,
}


def guard(**changes: object) -> SafetyGuard:
    return SafetyGuard(validate(SafetyLimits, {**LIMITS, **changes}, prefix="safety"))


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ({"instrument_id": "BTC-PERP", "size_coin": 12.5, "price_usd": 1_000.0},
         "order of 12.5 coin on BTC-PERP above the maximum 10 coin per order"),
        ({"instrument_id": "ETH-PERP", "size_coin": -150.0, "price_usd": 1_000.0},
         "order of 150 coin on ETH-PERP above the maximum 100 coin per order"),
        ({"instrument_id": "BTC-PERP", "size_coin": 6.0, "price_usd": 100_000.0},
         "order of 600,000.00 USD on BTC-PERP above the maximum 500,000.00 USD per order"),
        ({"instrument_id": "BTC-PERP", "size_coin": 1.0, "price_usd": 100_000.0, "limit_price": 100_600.0,
          "mid_price": 100_000.0},
         "limit price 100600 on BTC-PERP is 60.0 bps from the mid 100000, outside the collar of 50 bps"),
        ({"instrument_id": "BTC-PERP", "size_coin": -1.0, "price_usd": 100_000.0, "limit_price": 99_000.0,
          "mid_price": 100_000.0}, "100.0 bps from the mid"),
        ({"instrument_id": "BTC-PERP", "size_coin": 1.0, "price_usd": 100_000.0, "limit_price": 100_000.0},
         "no valid mid"),
        ({"instrument_id": "BTC-PERP", "size_coin": float("nan"), "price_usd": 100_000.0}, "must be finite"),
        ({"instrument_id": "BTC-PERP", "size_coin": 1.0, "price_usd": 0.0}, "price > 0"),
    ],
)
def test_each_limit_refuses_with_the_order_figure_and_the_limit(order: dict, message: str) -> None:
    checker = guard()
    with pytest.raises(SafetyLimitBreached, match=message):
        checker.check(**order, now_ns=0)
    assert checker.window_notional_usd(0) == 0.0


def test_orders_exactly_at_each_limit_are_accepted() -> None:
    checker = guard(max_order_notional_usd=1_000_000.0)
    checker.check("BTC-PERP", 10.0, 50_000.0, now_ns=0)  # the size limit
    checker.check("ETH-PERP", 100.0, 1_000.0, now_ns=0)  # the instrument's own size limit
    checker.check("BTC-PERP", 0.3, 100_000.0, now_ns=0, limit_price=100_000.0 * 1.005, mid_price=100_000.0)
    checker.check("BTC-PERP", 0.7, 100_000.0, now_ns=0, limit_price=100_000.0 * 0.995, mid_price=100_000.0)
    # 500,000 + 100,000 + 30,000 + 70,000 so far: 300,000 more reaches the window's limit.
    checker.check("BTC-PERP", 3.0, 100_000.0, now_ns=0)
    assert checker.window_notional_usd(0) == pytest.approx(1_000_000.0)
    notional = guard(max_notional_per_window_usd=1e7)
    notional.check("BTC-PERP", 5.0, 100_000.0, now_ns=0)  # the notional limit
    with pytest.raises(SafetyLimitBreached, match="above the maximum 500,000.00 USD per order"):
        notional.check("BTC-PERP", 5.001, 100_000.0, now_ns=0)


def test_rolling_window_refuses_until_old_notional_is_forgotten() -> None:
    checker = guard()
    checker.check("BTC-PERP", 4.0, 100_000.0, now_ns=0)
    checker.check("BTC-PERP", 4.0, 100_000.0, now_ns=30 * SECOND_NS)
    message = (r"order of 400,000.00 USD on BTC-PERP would bring the notional of the last 60 s to"
               r" 1,200,000.00 USD, above the maximum 1,000,000.00 USD")
    with pytest.raises(SafetyLimitBreached, match=message):
        checker.check("BTC-PERP", 4.0, 100_000.0, now_ns=60 * SECOND_NS - 1)
    checker.check("BTC-PERP", 4.0, 100_000.0, now_ns=60 * SECOND_NS)  # the first order has left the window
    assert checker.window_notional_usd(60 * SECOND_NS) == pytest.approx(800_000.0)
    assert checker.window_notional_usd(120 * SECOND_NS) == 0.0


def test_kill_switch_refuses_everything_until_released() -> None:
    checker = guard(kill_switch=True)
    with pytest.raises(SafetyLimitBreached, match=r"kill switch on \(set in the configuration\)"):
        checker.check("BTC-PERP", 0.001, 100_000.0, now_ns=0)
    checker.release_kill_switch()
    checker.check("BTC-PERP", 0.001, 100_000.0, now_ns=0)
    checker.engage_kill_switch("venue reports stale prices")
    assert checker.kill_switch_on
    with pytest.raises(SafetyLimitBreached, match=r"kill switch on \(venue reports stale prices\)"):
        checker.check("BTC-PERP", 0.001, 100_000.0, now_ns=1)


def test_request_of_inverse_contracts_is_checked_in_coin_of_face_over_price() -> None:
    perpetual, _ = example_instruments()
    # 12,500 contracts of 10 USD at 100,000 USD per BTC are 1.25 BTC.
    request = OrderRequest(client_order_id="1", instrument_id=perpetual.instrument_id, side=Side.BUY,
                           quantity=Quantity(Decimal(12_500), 0), price=Price(Decimal("100700.0"), 1))
    checker = guard(max_order_coin=1.0)
    with pytest.raises(SafetyLimitBreached, match="order of 1.25 coin on BTC-PERPETUAL.DERIBIT above the maximum 1"):
        checker.check_request(request, perpetual, underlying_price_usd=100_000.0, mid_price=100_000.0, now_ns=0)
    with pytest.raises(SafetyLimitBreached, match="70.0 bps from the mid"):
        guard().check_request(request, perpetual, underlying_price_usd=100_000.0, mid_price=100_000.0, now_ns=0)
    accepted = guard()
    accepted.check_request(request, perpetual, underlying_price_usd=100_600.0, mid_price=100_600.0, now_ns=0)
    assert accepted.window_notional_usd(0) == pytest.approx(125_000.0)


def test_request_of_option_contracts_collars_the_premium_in_coin() -> None:
    _, call = example_instruments()
    request = OrderRequest(client_order_id="2", instrument_id=call.instrument_id, side=Side.SELL,
                           quantity=Quantity(Decimal("2.5"), 1), price=Price(Decimal("0.0300"), 4))
    checker = guard()
    with pytest.raises(SafetyLimitBreached, match=r"limit price 0.03 .* from the mid 0.0305"):
        checker.check_request(request, call, underlying_price_usd=100_000.0, mid_price=0.0305, now_ns=0)
    checker.check_request(request, call, underlying_price_usd=100_000.0, mid_price=0.03005, now_ns=0)
    assert checker.window_notional_usd(0) == pytest.approx(250_000.0)


def test_bad_limits_are_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"safety.max_order_coin_by_instrument.BTC-PERP: Input should be greater"):
        validate(SafetyLimits, {**LIMITS, "max_order_coin_by_instrument": {"BTC-PERP": 0.0}}, prefix="safety")
    with pytest.raises(ConfigError, match="safety.price_collar_bps: Field required"):
        validate(SafetyLimits, {k: v for k, v in LIMITS.items() if k != "price_collar_bps"}, prefix="safety")
    with pytest.raises(ConfigError, match="safety.kill_swich: Extra inputs are not permitted"):
        validate(SafetyLimits, {**LIMITS, "kill_swich": True}, prefix="safety")
