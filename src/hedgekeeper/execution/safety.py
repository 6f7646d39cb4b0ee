"""Safety limits that every order passes before it leaves, whatever policy asked for it.

``SafetyLimits`` is the validated configuration (the ``[safety]`` table); a
``SafetyGuard`` holds it with the little state the limits need (the notional
accepted in the rolling window, the kill switch) and refuses an order with
``SafetyLimitBreached``, whose message gives the order's figure and the limit.
The checks, in order:

1. kill switch: while on, every order is refused;
2. size: ``|size| <= max_order_coin`` (per instrument, else the default);
3. notional: ``|size| * price <= max_order_notional_usd``;
4. price collar: a limit price within ``price_collar_bps`` of the mid, either way
   (a market order has no price to check; its size and notional still are);
5. rolling notional: the notional accepted in ``(now - window, now]`` plus this
   order's ``<= max_notional_per_window_usd``.

Every limit is inclusive: an order exactly at it is accepted (to within a relative
``1e-12``, so that float rounding of a notional or a distance never refuses it). Only an accepted
order is counted in the window, at the time passed in (ns since the epoch,
from the engine's clock: the guard never reads the wall clock). A size or price
that is not a finite positive number is refused too: a NaN compares false with
every limit and would otherwise slip through.
"""

from __future__ import annotations

import math
from collections import deque

import pydantic

from hedgekeeper.config import StrictModel
from hedgekeeper.errors import SafetyLimitBreached
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.venues.orders import OrderRequest

NS_PER_SECOND = 1_000_000_000

_ROUNDING = 1.0 + 1e-12
"""A figure above its limit by less than this factor is float rounding, and accepted."""


class SafetyLimits(StrictModel):
    """The limits no policy can bypass.

    Attributes
    ----------
    max_order_coin : float > 0, the largest order, coin of the underlying, unless overridden
    max_order_coin_by_instrument : instrument id to the largest order for it, coin, > 0
    max_order_notional_usd : float > 0, the largest order notional, USD
    max_notional_per_window_usd : float > 0, the most notional accepted in any rolling window, USD
    notional_window_s : float > 0, the rolling window's length, seconds
    price_collar_bps : float > 0, how far a limit price may be from the mid, basis points
    kill_switch : bool, start with every order refused

    Examples
    --------
    >>> from hedgekeeper.config import validate
    >>> validate(SafetyLimits, {"max_order_coin": -1, "max_order_notional_usd": 1e6,
    ...     "max_notional_per_window_usd": 5e6, "notional_window_s": 60, "price_collar_bps": 50},
    ...     prefix="safety")
    Traceback (most recent call last):
    ...
    hedgekeeper.errors.ConfigError: invalid configuration: safety.max_order_coin: Input should be greater than 0
    """

    max_order_coin: float = pydantic.Field(gt=0.0)
    max_order_coin_by_instrument: dict[str, pydantic.PositiveFloat] = pydantic.Field(default_factory=dict)
    max_order_notional_usd: float = pydantic.Field(gt=0.0)
    max_notional_per_window_usd: float = pydantic.Field(gt=0.0)
    notional_window_s: float = pydantic.Field(gt=0.0)
    price_collar_bps: float = pydantic.Field(gt=0.0)
    kill_switch: bool = False

    def order_limit_coin(self, instrument_id: str) -> float:
        """Return the largest order allowed on ``instrument_id``, coin."""
        return self.max_order_coin_by_instrument.get(instrument_id, self.max_order_coin)


class SafetyGuard:
    """Refuse orders outside the limits; count accepted notional over the rolling window.

    Parameters
    ----------
    limits : SafetyLimits

    Examples
    --------
    >>> limits = SafetyLimits(max_order_coin=10.0, max_order_notional_usd=2e6,
    ...     max_notional_per_window_usd=3e6, notional_window_s=60.0, price_collar_bps=50.0)
    >>> guard = SafetyGuard(limits)
    >>> guard.check("BTC-PERP", 12.5, 100_000.0, now_ns=0)
    Traceback (most recent call last):
    ...
    hedgekeeper.errors.SafetyLimitBreached: order of 12.5 coin on BTC-PERP above the maximum 10 coin per order
    >>> guard.check("BTC-PERP", 10.0, 100_000.0, now_ns=0)
    >>> guard.window_notional_usd(now_ns=0)
    1000000.0
    """

    def __init__(self, limits: SafetyLimits) -> None:
        self.limits = limits
        self._kill_reason = "set in the configuration" if limits.kill_switch else ""
        self._accepted: deque[tuple[int, float]] = deque()

    @property
    def kill_switch_on(self) -> bool:
        """Return whether every order is being refused."""
        return bool(self._kill_reason)

    def engage_kill_switch(self, reason: str) -> None:
        """Refuse every order from now on, giving ``reason`` in each refusal."""
        self._kill_reason = reason or "no reason given"

    def release_kill_switch(self) -> None:
        """Let orders through the other limits again."""
        self._kill_reason = ""

    def window_notional_usd(self, now_ns: int) -> float:
        """Return the notional accepted after ``now_ns - window``, USD; older entries are forgotten.

        Entries stamped after ``now_ns`` (a clock that stepped back) still count.
        """
        start_ns = now_ns - round(self.limits.notional_window_s * NS_PER_SECOND)
        while self._accepted and self._accepted[0][0] <= start_ns:
            self._accepted.popleft()
        return math.fsum(notional for _, notional in self._accepted)

    def check(
        self,
        instrument_id: str,
        size_coin: float,
        price_usd: float,
        *,
        now_ns: int,
        limit_price: float | None = None,
        mid_price: float | None = None,
    ) -> None:
        """Accept the order and count its notional, or refuse it.

        Parameters
        ----------
        instrument_id : str
        size_coin : float, coin of the underlying, either sign
        price_usd : float, USD per coin of the underlying, > 0, for the notional
        now_ns : int, ns since the epoch (UTC), from the engine's clock
        limit_price : float or None, the order's limit price, in the instrument's
            quote currency (USD per coin; coin for inverse options); None for a market order
        mid_price : float or None, the instrument's mid in the same currency, for the collar

        Raises
        ------
        SafetyLimitBreached
            Naming the limit broken, the order's figure and the limit.
        """
        limits = self.limits
        if self._kill_reason:
            raise SafetyLimitBreached(f"kill switch on ({self._kill_reason}): order on {instrument_id} refused")
        size = abs(size_coin)
        if not (math.isfinite(size) and size > 0.0 and math.isfinite(price_usd) and price_usd > 0.0):
            raise SafetyLimitBreached(
                f"order on {instrument_id}: size {size_coin!r} coin and price {price_usd!r} USD"
                " must be finite, size non-zero and price > 0"
            )
        most_coin = limits.order_limit_coin(instrument_id)
        if size > most_coin * _ROUNDING:
            raise SafetyLimitBreached(
                f"order of {size:g} coin on {instrument_id} above the maximum {most_coin:g} coin per order"
            )
        notional_usd = size * price_usd
        if notional_usd > limits.max_order_notional_usd * _ROUNDING:
            raise SafetyLimitBreached(
                f"order of {notional_usd:,.2f} USD on {instrument_id} above the maximum"
                f" {limits.max_order_notional_usd:,.2f} USD per order"
            )
        if limit_price is not None:
            self._check_collar(instrument_id, limit_price, mid_price)
        window_usd = self.window_notional_usd(now_ns)
        if window_usd + notional_usd > limits.max_notional_per_window_usd * _ROUNDING:
            raise SafetyLimitBreached(
                f"order of {notional_usd:,.2f} USD on {instrument_id} would bring the notional of the last"
                f" {limits.notional_window_s:g} s to {window_usd + notional_usd:,.2f} USD, above the maximum"
                f" {limits.max_notional_per_window_usd:,.2f} USD"
            )
        self._accepted.append((now_ns, notional_usd))

    def _check_collar(self, instrument_id: str, limit_price: float, mid_price: float | None) -> None:
        if mid_price is None or not (math.isfinite(mid_price) and mid_price > 0.0):
            raise SafetyLimitBreached(
                f"limit order on {instrument_id}: no valid mid ({mid_price!r}) to check the price collar against"
            )
        if not math.isfinite(limit_price):
            raise SafetyLimitBreached(f"limit order on {instrument_id}: limit price {limit_price!r} is not finite")
        distance_bps = abs(limit_price - mid_price) / mid_price * 1e4
        if distance_bps > self.limits.price_collar_bps * _ROUNDING:
            raise SafetyLimitBreached(
                f"limit price {limit_price:g} on {instrument_id} is {distance_bps:.1f} bps from the mid"
                f" {mid_price:g}, outside the collar of {self.limits.price_collar_bps:g} bps"
            )

    def check_request(
        self,
        request: OrderRequest,
        instrument: Instrument,
        *,
        underlying_price_usd: float,
        mid_price: float | None,
        now_ns: int,
    ) -> None:
        """Check an order about to be sent, converting its contracts to coin of the underlying.

        A contract is ``contract_size`` coin, except for inverse futures and perpetuals,
        whose contract is ``contract_size`` USD of face: ``contract_size / price`` coin.

        Parameters
        ----------
        request : OrderRequest
        instrument : Instrument, the request's
        underlying_price_usd : float, USD per coin, > 0
        mid_price : float or None, the instrument's mid in its quote currency
        now_ns : int, ns since the epoch (UTC)

        Raises
        ------
        SafetyLimitBreached
            As ``check``.
        """
        contracts = float(request.quantity.value) * float(instrument.contract_size)
        inverse_face = instrument.is_inverse and not instrument.is_option
        size_coin = contracts
        if inverse_face:  # a price that is not > 0 is refused by ``check``, naming it
            size_coin = contracts / underlying_price_usd if underlying_price_usd > 0.0 else math.nan
        self.check(
            request.instrument_id,
            size_coin,
            underlying_price_usd,
            now_ns=now_ns,
            limit_price=None if request.price is None else float(request.price.value),
            mid_price=mid_price,
        )
