"""The portfolio: positions and balances on a market, revalued incrementally, with its risk.

``Portfolio`` groups positions by underlying into structure-of-arrays books
(``book.py``) and keeps each book's last valuation. A spot tick (``update_spot``)
revalues only the book of the coin that moved; ``update_market`` re-reads forwards,
times and vols and revalues everything. ``risk()`` assembles the reporting view
from the cached valuations; ``scenario`` and ``distance_to_liquidation`` revalue
the book fully under shocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.errors import BadData
from hedgekeeper.portfolio.book import (
    Greeks,
    GreeksLadder,
    MarketInputs,
    UnderlyingBook,
    Valuation,
    greeks_ladder,
    revalue,
    value_with_greeks,
)
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, InstrumentRegistry
from hedgekeeper.portfolio.liquidation import LiquidationDistance, find_liquidation_moves
from hedgekeeper.portfolio.margin import MarginModel
from hedgekeeper.portfolio.market import MarketSnapshot
from hedgekeeper.portfolio.positions import Account, Balance, Position, account_of, check_position
from hedgekeeper.portfolio.risk import AccountRisk, PortfolioRisk, UnderlyingRisk

FloatArray = NDArray[np.float64]


class Portfolio:
    """Positions and balances valued on a market snapshot, per underlying and per margin account.

    Parameters
    ----------
    registry : InstrumentRegistry holding every position's instrument
    positions : iterable of Position
    balances : iterable of Balance; USD stablecoins count as USD, coins carry delta
    market : MarketSnapshot with every underlying held (as a position or a coin balance)
    margin_model : MarginModel, or None for the documented defaults

    Raises
    ------
    UnknownInstrument
        If a position names an instrument not in ``registry``.
    ConfigError
        If a position does not fit its instrument (``check_position``), or the margin
        model has no rates for a kind of future held.
    BadData
        If the market lacks an underlying, or its data is invalid for a position.

    Examples
    --------
    A long BTC perpetual on Binance (0.5 BTC at 100,000) on 10,000 USDT, spot 102,000:

    >>> from decimal import Decimal
    >>> from hedgekeeper.portfolio.instruments import Settlement
    >>> from hedgekeeper.portfolio.market import UnderlyingMarket
    >>> from hedgekeeper.portfolio.values import Money
    >>> perp = Instrument(instrument_id="BTCUSDT.BINANCE", venue="binance", kind=InstrumentKind.PERPETUAL,
    ...     settlement=Settlement.LINEAR, underlying="BTC", settlement_currency="USDT",
    ...     contract_size=Decimal(1), tick_size=Decimal("0.1"), lot_size=Decimal("0.001"),
    ...     min_size=Decimal("0.001"))
    >>> market = MarketSnapshot(0, {"BTC": UnderlyingMarket(underlying="BTC", spot_usd=102_000.0)})
    >>> book = Portfolio(InstrumentRegistry([perp]), [Position("BTCUSDT.BINANCE", 0.5, 100_000.0)],
    ...     [Balance("binance", Money(Decimal(10_000), "USDT"))], market)
    >>> risk = book.risk()
    >>> risk.equity_usd, risk.maintenance_margin_usd, risk.underlying("BTC").delta_usd
    (11000.0, 205.0, 51000.0)
    """

    def __init__(
        self,
        registry: InstrumentRegistry,
        positions: Iterable[Position],
        balances: Iterable[Balance],
        market: MarketSnapshot,
        margin_model: MarginModel | None = None,
    ) -> None:
        model = MarginModel() if margin_model is None else margin_model
        positions = tuple(positions)
        balances = tuple(balances)
        self._accounts: dict[Account, int] = {}
        held: list[tuple[Instrument, Position]] = []
        for balance in balances:
            self._accounts.setdefault(balance.account, len(self._accounts))
        for position in positions:
            instrument = registry.get(position.instrument_id)
            check_position(position, instrument)
            self._accounts.setdefault(account_of(instrument), len(self._accounts))
            held.append((instrument, position))

        names = list(dict.fromkeys(
            [instrument.underlying for instrument, _ in held]
            + [b.money.currency for b in balances if not b.account.is_usd]
        ))
        futures = [i for i, _ in held if i.kind in (InstrumentKind.FUTURE, InstrumentKind.PERPETUAL)]
        self._usd_balance_usd = np.zeros(len(self._accounts))
        coin_balances: dict[str, list[tuple[float, int]]] = {name: [] for name in names}
        for balance in balances:
            index = self._accounts[balance.account]
            if balance.account.is_usd:
                self._usd_balance_usd[index] += float(balance.money)
            else:
                coin_balances[balance.money.currency].append((float(balance.money), index))
        self._books = {
            name: UnderlyingBook.build(
                name,
                [(i, p, self._accounts[account_of(i)]) for i, p in held if i.underlying == name],
                coin_balances[name],
                len(self._accounts),
                model.schedule(
                    name,
                    inverse_futures=any(i.underlying == name and i.is_inverse for i in futures),
                    linear_futures=any(i.underlying == name and not i.is_inverse for i in futures),
                ),
            )
            for name in names
        }
        margined = {account_of(i) for i, _ in held if i.kind is not InstrumentKind.SPOT}
        self._margined = np.array([account in margined for account in self._accounts], dtype=np.bool_)
        self._inputs: dict[str, MarketInputs] = {}
        self._valuations: dict[str, Valuation] = {}
        self._greeks: dict[str, Greeks] = {}
        self._market = market
        self.update_market(market)

    @property
    def accounts(self) -> tuple[Account, ...]:
        """Return the margin accounts, in the order of the valuation arrays' last axis."""
        return tuple(self._accounts)

    @property
    def underlyings(self) -> tuple[str, ...]:
        """Return the underlyings held, as positions or coin balances."""
        return tuple(self._books)

    @property
    def market(self) -> MarketSnapshot:
        """Return the market the portfolio is valued on."""
        return self._market

    def update_market(self, market: MarketSnapshot) -> None:
        """Value the portfolio on a new snapshot: re-read forwards, times to expiry and vols.

        Raises
        ------
        BadData
            If the snapshot lacks an underlying held or its data is invalid.
        """
        inputs = {
            name: MarketInputs.resolve(book, market.underlying(name), market.as_of_ns)
            for name, book in self._books.items()
        }
        self._market, self._inputs = market, inputs
        self.revalue()

    def update_spot(self, underlying: str, spot_usd: float) -> None:
        """Move one underlying's spot (forwards in proportion) and revalue only its book.

        Raises
        ------
        BadData
            If ``spot_usd`` is NaN or not positive, or ``underlying`` is not held.
        """
        self._book(underlying)
        self._market = self._market.with_spot(underlying, spot_usd)
        self.revalue([underlying])

    def revalue(self, underlyings: Iterable[str] | None = None) -> None:
        """Revalue the books of ``underlyings`` (all when None) on the current market."""
        for name in self._books if underlyings is None else underlyings:
            spot_usd = self._market.underlying(name).spot_usd
            self._valuations[name], self._greeks[name] = value_with_greeks(
                self._book(name), self._inputs[name], spot_usd
            )

    def greeks_ladder(self, underlying: str, spot_usd: ArrayLike) -> GreeksLadder:
        """Return the equity and Greeks of ``underlying``'s book at each spot of a 1-D grid.

        The book is this underlying's positions and coin balances (USD cash and other
        coins excluded); forwards move with spot, vols and time stay as they are.

        Raises
        ------
        BadData
            If ``underlying`` is not held.
        """
        return greeks_ladder(self._book(underlying), self._inputs[underlying], np.asarray(spot_usd, dtype=np.float64))

    def valuation(self) -> Valuation:
        """Return the current per-account equity and margins, USD, shape (accounts,)."""
        equity = self._usd_balance_usd.copy()
        initial = np.zeros_like(equity)
        maintenance = np.zeros_like(equity)
        for valuation in self._valuations.values():
            equity += valuation.equity_usd
            initial += valuation.initial_margin_usd
            maintenance += valuation.maintenance_margin_usd
        return Valuation(equity, initial, maintenance)

    def risk(self) -> PortfolioRisk:
        """Return the risk per underlying and per account in reporting units (see ``risk.py``)."""
        valuation = self.valuation()
        equity_usd = float(valuation.equity_usd.sum())
        spot = {name: self._market.underlying(name).spot_usd for name in self._books}
        return PortfolioRisk(
            as_of_ns=self._market.as_of_ns,
            underlyings=tuple(
                UnderlyingRisk.from_greeks(name, spot[name], greeks, equity_usd)
                for name, greeks in self._greeks.items()
            ),
            accounts=tuple(
                AccountRisk(
                    account=account,
                    equity_usd=float(valuation.equity_usd[i]),
                    initial_margin_usd=float(valuation.initial_margin_usd[i]),
                    maintenance_margin_usd=float(valuation.maintenance_margin_usd[i]),
                    currency_usd=1.0 if account.is_usd else spot[account.currency],
                )
                for account, i in self._accounts.items()
            ),
        )

    def scenario(
        self,
        spot_moves: Mapping[str, ArrayLike] | None = None,
        *,
        vol_shift: float = 0.0,
        time_shift_years: float = 0.0,
    ) -> Valuation:
        """Return per-account equity and margins under shocks, by full revaluation.

        Parameters
        ----------
        spot_moves : underlying -> moves as fractions of spot (1-D, one length for
            all, > -1): spot ``S (1 + move)``, forwards in proportion, vols held
        vol_shift : added to every option's vol, annualised decimal (0.01 is a point)
        time_shift_years : calendar time passed, ACT/365 years, spot/forwards/vols held

        Returns
        -------
        Valuation of arrays shaped (moves, accounts), USD.
        """
        moves = {
            name: np.atleast_1d(np.asarray(move, dtype=np.float64)) for name, move in (spot_moves or {}).items()
        }
        for name in moves:
            self._book(name)
        shifted = vol_shift != 0.0 or time_shift_years != 0.0
        total = self.valuation()
        equity = total.equity_usd[None, :]
        initial = total.initial_margin_usd[None, :]
        maintenance = total.maintenance_margin_usd[None, :]
        for name, book in self._books.items():
            if name not in moves and not shifted:
                continue
            inputs = self._inputs[name].shifted(vol_shift, time_shift_years) if shifted else self._inputs[name]
            spot_usd = self._market.underlying(name).spot_usd * (1.0 + moves.get(name, np.zeros(1)))
            shocked, base = revalue(book, inputs, spot_usd), self._valuations[name]
            equity = equity + (shocked.equity_usd - base.equity_usd)
            initial = initial + (shocked.initial_margin_usd - base.initial_margin_usd)
            maintenance = maintenance + (shocked.maintenance_margin_usd - base.maintenance_margin_usd)
        return Valuation(equity, initial, maintenance)

    def distance_to_liquidation(
        self, underlyings: Sequence[str] | None = None, *, max_move: float = 0.5, grid_points: int = 100
    ) -> LiquidationDistance:
        """Return the smallest move down and up of ``underlyings`` together (all when None) to liquidation.

        Liquidation is per margin account, when its equity meets its maintenance margin;
        see ``liquidation.py`` for the search and ``scenario`` for the shocks.

        Parameters
        ----------
        underlyings : the underlyings moved by the same fraction; all held when None
        max_move : float in (0, 1), the range searched on each side, fraction of spot
        grid_points : grid moves per side before refining with brentq
        """
        scope = self.underlyings if underlyings is None else tuple(underlyings)
        accounts = [account for account, margined in zip(self._accounts, self._margined, strict=True) if margined]

        def cushion(moves: FloatArray) -> FloatArray:
            shocked = self.scenario({name: moves for name in scope})
            return (shocked.equity_usd - shocked.maintenance_margin_usd)[:, self._margined]

        down, up = find_liquidation_moves(cushion, accounts, max_move=max_move, grid_points=grid_points)
        spot = {name: self._market.underlying(name).spot_usd for name in scope}
        return LiquidationDistance(scope=scope, spot_usd=spot, down=down, up=up, max_move=max_move)

    def _book(self, underlying: str) -> UnderlyingBook:
        try:
            return self._books[underlying]
        except KeyError:
            held = ", ".join(self._books) or "nothing"
            raise BadData(f"the portfolio holds no {underlying} (it holds {held})") from None
