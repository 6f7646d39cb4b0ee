"""The portfolio's risk in reporting units: per underlying, per margin account, in total.

Per underlying (``UnderlyingRisk``):

- delta in coin (``d equity_usd / d spot``) and in USD (``delta_coin * spot``), of
  which ``collateral_delta_coin`` is carried by coin equity (Deribit's convention:
  see ``book.py``);
- gamma as the USD change of the USD delta per 1% move,
  ``gamma_coin_per_usd * spot**2 * 0.01``;
- vega in USD per vol point (0.01 of annualised vol), theta in USD per calendar day
  (ACT/365, spot, forwards and vols held);
- weight: the net USD delta over the portfolio's total USD equity (so USD cash
  dilutes every weight, and a book that is all coin has weights summing to 1);
- gross notional in USD and leverage, gross notional over total equity. An option's
  notional is its underlying amount at spot, ``|size_coin| * spot`` (the venues'
  convention, not delta-adjusted); a linear future's is ``|size_coin| * forward``,
  an inverse future's its USD face; coin balances are collateral, not notional.

Weights and leverage are NaN when the equity is not positive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hedgekeeper.portfolio.book import Greeks
from hedgekeeper.portfolio.positions import Account

DAYS_PER_YEAR = 365.0


def _over_equity(amount_usd: float, equity_usd: float) -> float:
    return amount_usd / equity_usd if equity_usd > 0 else math.nan


@dataclass(frozen=True)
class UnderlyingRisk:
    """The risk of one underlying, in coin and USD (see the module docstring for units).

    Examples
    --------
    >>> risk = UnderlyingRisk("BTC", 100_000.0, delta_coin=2.0, collateral_delta_coin=10.0,
    ...     gamma_coin_per_usd=-1e-4, vega_usd_per_vol_pt=-1_500.0, theta_usd_per_day=900.0,
    ...     gross_notional_usd=4e6, weight=0.2, leverage=4.0)
    >>> risk.delta_usd, risk.position_delta_coin, risk.gamma_usd_per_pct
    (200000.0, -8.0, -10000.0)
    """

    underlying: str
    spot_usd: float
    delta_coin: float
    collateral_delta_coin: float
    gamma_coin_per_usd: float
    vega_usd_per_vol_pt: float
    theta_usd_per_day: float
    gross_notional_usd: float
    weight: float
    leverage: float

    @classmethod
    def from_greeks(cls, underlying: str, spot_usd: float, greeks: Greeks, equity_usd: float) -> UnderlyingRisk:
        """Return the risk of ``greeks`` (per 1.00 vol, per year) in reporting units."""
        return cls(
            underlying=underlying,
            spot_usd=spot_usd,
            delta_coin=greeks.delta_coin,
            collateral_delta_coin=greeks.collateral_delta_coin,
            gamma_coin_per_usd=greeks.gamma_coin_per_usd,
            vega_usd_per_vol_pt=greeks.vega_usd_per_vol * 0.01,
            theta_usd_per_day=greeks.theta_usd_per_year / DAYS_PER_YEAR,
            gross_notional_usd=greeks.gross_notional_usd,
            weight=_over_equity(greeks.delta_coin * spot_usd, equity_usd),
            leverage=_over_equity(greeks.gross_notional_usd, equity_usd),
        )

    @property
    def delta_usd(self) -> float:
        """Return the delta in USD: ``delta_coin * spot_usd``."""
        return self.delta_coin * self.spot_usd

    @property
    def position_delta_coin(self) -> float:
        """Return the delta of the instruments alone (premium-adjusted for inverse options), coin."""
        return self.delta_coin - self.collateral_delta_coin

    @property
    def gamma_usd_per_pct(self) -> float:
        """Return the USD change of the USD delta per 1% spot move."""
        return self.gamma_coin_per_usd * self.spot_usd**2 * 0.01


@dataclass(frozen=True)
class AccountRisk:
    """Equity and margin of one margin account, in USD; ``currency_usd`` prices its currency."""

    account: Account
    equity_usd: float
    initial_margin_usd: float
    maintenance_margin_usd: float
    currency_usd: float

    @property
    def equity(self) -> float:
        """Return the equity in the account's own currency."""
        return self.equity_usd / self.currency_usd

    @property
    def maintenance_ratio(self) -> float:
        """Return maintenance margin over equity (liquidation at 1; NaN if equity <= 0)."""
        return _over_equity(self.maintenance_margin_usd, self.equity_usd)


@dataclass(frozen=True)
class PortfolioRisk:
    """The portfolio's risk at ``as_of_ns``: per underlying, per account, and totals in USD."""

    as_of_ns: int
    underlyings: tuple[UnderlyingRisk, ...]
    accounts: tuple[AccountRisk, ...]

    def underlying(self, name: str) -> UnderlyingRisk:
        """Return the risk of underlying ``name``."""
        for risk in self.underlyings:
            if risk.underlying == name:
                return risk
        raise KeyError(name)

    @property
    def equity_usd(self) -> float:
        """Return the total equity of all accounts, USD."""
        return sum(account.equity_usd for account in self.accounts)

    @property
    def initial_margin_usd(self) -> float:
        """Return the total initial margin, USD."""
        return sum(account.initial_margin_usd for account in self.accounts)

    @property
    def maintenance_margin_usd(self) -> float:
        """Return the total maintenance margin, USD."""
        return sum(account.maintenance_margin_usd for account in self.accounts)

    @property
    def gross_notional_usd(self) -> float:
        """Return the gross notional of all positions, USD."""
        return sum(risk.gross_notional_usd for risk in self.underlyings)

    @property
    def leverage(self) -> float:
        """Return gross notional over total equity (NaN if equity <= 0)."""
        return _over_equity(self.gross_notional_usd, self.equity_usd)

    @property
    def maintenance_ratio(self) -> float:
        """Return total maintenance margin over total equity (NaN if equity <= 0)."""
        return _over_equity(self.maintenance_margin_usd, self.equity_usd)
