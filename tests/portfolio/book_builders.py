"""Small books for the portfolio tests: instruments of every kind, markets, a mixed book."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, InstrumentRegistry, Settlement
from hedgekeeper.portfolio.market import NS_PER_DAY, MarketSnapshot, UnderlyingMarket
from hedgekeeper.portfolio.portfolio import Portfolio
from hedgekeeper.portfolio.positions import Balance, Position
from hedgekeeper.portfolio.values import Money

AS_OF_NS = 1_749_801_600_000_000_000  # 2025-06-13T08:00:00Z
NEAR_NS = AS_OF_NS + 14 * NS_PER_DAY
FAR_NS = AS_OF_NS + 105 * NS_PER_DAY


def inverse_option(strike_usd: float, is_call: bool, expiry_ns: int = FAR_NS, underlying: str = "BTC") -> Instrument:
    """Return a Deribit coin-settled option on 1 coin."""
    return Instrument(
        instrument_id=f"{underlying}-{expiry_ns}-{strike_usd:g}-{'C' if is_call else 'P'}.DERIBIT",
        venue="deribit", kind=InstrumentKind.OPTION, settlement=Settlement.INVERSE, underlying=underlying,
        settlement_currency=underlying, contract_size=Decimal(1), tick_size=Decimal("0.0005"),
        lot_size=Decimal("0.1"), min_size=Decimal("0.1"), expiry_ns=expiry_ns,
        strike_usd=Decimal(repr(strike_usd)), is_call=is_call,
    )


def linear_option(strike_usd: float, is_call: bool, expiry_ns: int = FAR_NS, underlying: str = "BTC") -> Instrument:
    """Return a Deribit USDC-settled option on 1 coin."""
    return Instrument(
        instrument_id=f"{underlying}_USDC-{expiry_ns}-{strike_usd:g}-{'C' if is_call else 'P'}.DERIBIT",
        venue="deribit", kind=InstrumentKind.OPTION, settlement=Settlement.LINEAR, underlying=underlying,
        settlement_currency="USDC", contract_size=Decimal(1), tick_size=Decimal(5), lot_size=Decimal("0.01"),
        min_size=Decimal("0.01"), expiry_ns=expiry_ns, strike_usd=Decimal(repr(strike_usd)), is_call=is_call,
    )


def inverse_future(expiry_ns: int | None = None, underlying: str = "BTC") -> Instrument:
    """Return a Deribit coin-margined future (perpetual when ``expiry_ns`` is None), 10 USD per contract."""
    kind = InstrumentKind.PERPETUAL if expiry_ns is None else InstrumentKind.FUTURE
    return Instrument(
        instrument_id=f"{underlying}-{'PERPETUAL' if expiry_ns is None else expiry_ns}.DERIBIT", venue="deribit",
        kind=kind, settlement=Settlement.INVERSE, underlying=underlying, settlement_currency=underlying,
        contract_size=Decimal(10), tick_size=Decimal("0.5"), lot_size=Decimal(1), min_size=Decimal(1),
        expiry_ns=expiry_ns,
    )


def linear_future(expiry_ns: int | None = None, underlying: str = "BTC") -> Instrument:
    """Return a Binance USDT-margined future (perpetual when ``expiry_ns`` is None), sized in coin."""
    kind = InstrumentKind.PERPETUAL if expiry_ns is None else InstrumentKind.FUTURE
    return Instrument(
        instrument_id=f"{underlying}USDT-{'PERP' if expiry_ns is None else expiry_ns}.BINANCE", venue="binance",
        kind=kind, settlement=Settlement.LINEAR, underlying=underlying, settlement_currency="USDT",
        contract_size=Decimal(1), tick_size=Decimal("0.1"), lot_size=Decimal("0.001"), min_size=Decimal("0.001"),
        expiry_ns=expiry_ns,
    )


def spot(underlying: str = "BTC") -> Instrument:
    """Return Binance's spot market of ``underlying`` against USDT."""
    return Instrument(
        instrument_id=f"{underlying}USDT.BINANCE", venue="binance", kind=InstrumentKind.SPOT,
        settlement=Settlement.LINEAR, underlying=underlying, settlement_currency="USDT",
        contract_size=Decimal(1), tick_size=Decimal("0.01"), lot_size=Decimal("0.00001"),
        min_size=Decimal("0.00001"),
    )


def market(
    btc_usd: float = 100_000.0, eth_usd: float = 2_500.0, vol: float = 0.6, basis_rate: float = 0.05,
    rate: float = 0.0,
) -> MarketSnapshot:
    """Return a snapshot of BTC and ETH with flat vols and forwards from a basis rate."""
    return MarketSnapshot(AS_OF_NS, {
        name: UnderlyingMarket(underlying=name, spot_usd=price, vol=vol, basis_rate=basis_rate, rate=rate)
        for name, price in (("BTC", btc_usd), ("ETH", eth_usd))
    })


def balance(venue: str, currency: str, amount: str) -> Balance:
    """Return an exact balance."""
    return Balance(venue, Money(Decimal(amount), currency))


def portfolio(
    holdings: Sequence[tuple[Instrument, Position]],
    balances: Sequence[Balance] = (),
    snapshot: MarketSnapshot | None = None,
) -> Portfolio:
    """Return the portfolio of ``holdings`` (instrument, position) and balances on ``snapshot``."""
    registry = InstrumentRegistry({i.instrument_id: i for i, _ in holdings}.values())
    return Portfolio(registry, [p for _, p in holdings], balances, market() if snapshot is None else snapshot)


def mixed_holdings() -> list[tuple[Instrument, Position]]:
    """Return a book with every kind and settlement on BTC and ETH, long and short."""
    rows: list[tuple[Instrument, float, float | None]] = [
        (inverse_option(110_000.0, True, NEAR_NS), -25.0, None),
        (inverse_option(90_000.0, False), 12.5, None),
        (inverse_option(130_000.0, True), -8.0, None),
        (linear_option(100_000.0, True), -3.0, None),
        (linear_option(95_000.0, False, NEAR_NS), 4.0, None),
        (inverse_future(), -60_000.0, 98_500.0),
        (inverse_future(FAR_NS), 25_000.0, 101_200.0),
        (linear_future(), 2.5, 99_100.0),
        (linear_future(FAR_NS), -1.2, 102_300.0),
        (spot(), 1.75, None),
        (inverse_option(2_800.0, True, underlying="ETH"), -150.0, None),
        (inverse_option(2_200.0, False, NEAR_NS, underlying="ETH"), 80.0, None),
        (linear_option(2_600.0, False, underlying="ETH"), -40.0, None),
        (inverse_future(underlying="ETH"), -35_000.0, 2_450.0),
        (linear_future(underlying="ETH"), 60.0, 2_530.0),
    ]
    return [(i, Position(i.instrument_id, size, entry)) for i, size, entry in rows]


def mixed_balances() -> list[Balance]:
    """Return collateral for ``mixed_holdings``: coins at Deribit, stablecoins at both venues."""
    return [
        balance("deribit", "BTC", "12.5"),
        balance("deribit", "ETH", "240"),
        balance("deribit", "USDC", "250000"),
        balance("binance", "USDT", "400000"),
    ]
