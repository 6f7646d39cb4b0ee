"""The service's tables (SQLAlchemy 2 declarative models): what a restart needs and what a person asks.

=====================  ==========================================================================
table                  one row per
=====================  ==========================================================================
``runs``               start of the service: its client-order-id prefix, its heartbeat (wall
                       and engine time), how it stopped, what its recovery found
``config_versions``    configuration in force: the first from the file, then every band change
``positions``          instrument held: signed contracts (rewritten with every fill)
``balances``           venue and currency: the amount, a decimal string (never rounded)
``hedge_memories``     underlying: the time and reference price of its last rebalance
``orders``             order we sent (written before it is sent): request, state, venue id
``order_transitions``  change of an order's state, in order, with its detail
``fills``              execution, by the venue's trade id: exact price, quantity and fee, and
                       the fill as booked (USD fee, mid, slippage)
``costs``              cost paid: a fill's fee and slippage, USD
``decisions``          policy verdict a rule fired on, acted on or skipped, with its reasons
``greeks_snapshots``   risk sample of one underlying: Greeks, equity, distance to liquidation
``controls``           switch set by a person: paused, kill switch (with its reason)
``chain_records``      thing the chain's side did: a keeper decision (a vault out of band, acted
                       on or skipped, with its reason), a keeper transaction event (sent,
                       replaced, included, reverted, confirmed, ...), an oracle submission
                       (posted or held back, with the rule's numbers)
=====================  ==========================================================================

Times are integer nanoseconds since the epoch (UTC, ``BigInteger``). Exact venue
figures (prices, quantities, fees, balances) are decimal strings; analytics are
floats. The schema is created and upgraded by the Alembic migrations shipped in
``migrations/`` (``schema.py``), never by ``create_all``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The declarative base of the service's tables."""


class Run(Base):
    """One start of the service."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_wall_ns: Mapped[int] = mapped_column(BigInteger)
    started_engine_ns: Mapped[int] = mapped_column(BigInteger)
    id_prefix: Mapped[str] = mapped_column(String(64), unique=True)
    heartbeat_wall_ns: Mapped[int] = mapped_column(BigInteger)
    heartbeat_engine_ns: Mapped[int] = mapped_column(BigInteger)
    stopped_wall_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    clean_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    recovery: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ConfigVersion(Base):
    """The configuration in force from ``ts_ns``: the file's, or a band change made at run time."""

    __tablename__ = "config_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts_ns: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class PositionRow(Base):
    """A position: signed contracts of one instrument."""

    __tablename__ = "positions"

    instrument_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    size_contracts: Mapped[float] = mapped_column(Float)
    entry_price_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_ns: Mapped[int] = mapped_column(BigInteger)


class BalanceRow(Base):
    """A balance at a venue in one currency, exact."""

    __tablename__ = "balances"

    venue: Mapped[str] = mapped_column(String(100), primary_key=True)
    currency: Mapped[str] = mapped_column(String(32), primary_key=True)
    amount: Mapped[str] = mapped_column(String(80))
    updated_ns: Mapped[int] = mapped_column(BigInteger)


class HedgeMemoryRow(Base):
    """The last rebalance of an underlying."""

    __tablename__ = "hedge_memories"

    underlying: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_rebalance_ts_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_reference_usd: Mapped[float | None] = mapped_column(Float, nullable=True)


class OrderRow(Base):
    """One of our orders, written before it is sent."""

    __tablename__ = "orders"

    client_order_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    venue: Mapped[str] = mapped_column(String(100))
    instrument_id: Mapped[str] = mapped_column(String(200))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[str] = mapped_column(String(80))
    order_type: Mapped[str] = mapped_column(String(16))
    price: Mapped[str | None] = mapped_column(String(80), nullable=True)
    time_in_force: Mapped[str] = mapped_column(String(16))
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(24), index=True)
    venue_order_id: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_ns: Mapped[int] = mapped_column(BigInteger)
    updated_ns: Mapped[int] = mapped_column(BigInteger)


class OrderTransitionRow(Base):
    """One change of an order's state."""

    __tablename__ = "order_transitions"
    __table_args__ = (UniqueConstraint("client_order_id", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(ForeignKey("orders.client_order_id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    ts_ns: Mapped[int] = mapped_column(BigInteger)
    before: Mapped[str] = mapped_column(String(24))
    event: Mapped[str] = mapped_column(String(24))
    after: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str] = mapped_column(Text, default="")


class FillRow(Base):
    """One execution, by the venue's trade id (an off-venue option trade gets ``taker-<run>-<n>``)."""

    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("venue", "fill_id"), Index("ix_fills_ts_ns", "ts_ns"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    venue: Mapped[str] = mapped_column(String(100))
    fill_id: Mapped[str] = mapped_column(String(100))
    client_order_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    instrument_id: Mapped[str] = mapped_column(String(200))
    size_contracts: Mapped[float] = mapped_column(Float)
    quantity: Mapped[str] = mapped_column(String(80))
    price: Mapped[str] = mapped_column(String(80))
    fee: Mapped[str] = mapped_column(String(80))
    fee_currency: Mapped[str] = mapped_column(String(32))
    price_usd: Mapped[float] = mapped_column(Float)
    mid_usd: Mapped[float] = mapped_column(Float)
    notional_usd: Mapped[float] = mapped_column(Float)
    fee_usd: Mapped[float] = mapped_column(Float)
    slippage_usd: Mapped[float] = mapped_column(Float)
    ts_ns: Mapped[int] = mapped_column(BigInteger)
    recovered: Mapped[bool] = mapped_column(Boolean, default=False)


class CostRow(Base):
    """A cost paid, USD: ``kind`` is ``fee`` or ``slippage``; ``reference`` the fill's id."""

    __tablename__ = "costs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts_ns: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_usd: Mapped[float] = mapped_column(Float)
    reference: Mapped[str] = mapped_column(String(200))


class DecisionRow(Base):
    """A policy verdict, acted on or skipped, with its reasons and goal."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts_ns: Mapped[int] = mapped_column(BigInteger, index=True)
    underlying: Mapped[str] = mapped_column(String(32))
    act: Mapped[bool] = mapped_column(Boolean)
    trigger: Mapped[str] = mapped_column(String(100))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    goal: Mapped[dict[str, Any]] = mapped_column(JSON)
    forced: Mapped[bool] = mapped_column(Boolean)
    expected_cost_usd: Mapped[float] = mapped_column(Float)
    expected_benefit_usd: Mapped[float] = mapped_column(Float)


class GreeksSnapshotRow(Base):
    """One underlying's risk at one instant (``engine.records.RiskSample``)."""

    __tablename__ = "greeks_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts_ns: Mapped[int] = mapped_column(BigInteger, index=True)
    underlying: Mapped[str] = mapped_column(String(32))
    spot_usd: Mapped[float] = mapped_column(Float)
    delta_coin: Mapped[float] = mapped_column(Float)
    gamma_usd_per_pct: Mapped[float] = mapped_column(Float)
    vega_usd_per_vol_pt: Mapped[float] = mapped_column(Float)
    weight: Mapped[float | None] = mapped_column(Float, nullable=True)
    equity_usd: Mapped[float] = mapped_column(Float)
    liquidation_distance: Mapped[float | None] = mapped_column(Float, nullable=True)


class ControlRow(Base):
    """A switch a person set: ``paused`` or ``kill_switch``; ``value`` is "" when off, else the reason."""

    __tablename__ = "controls"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_ns: Mapped[int] = mapped_column(BigInteger)


class ChainRecord(Base):
    """One keeper decision, keeper transaction event or oracle submission (``chain/``), as the chain saw it.

    ``kind`` says which: ``keeper_decision`` (``subject`` the vault, ``outcome`` ``act`` or
    ``skip``), ``keeper_transaction`` (``subject`` the transaction hash, ``outcome`` its
    event) or ``oracle_submission`` (``subject`` the oracle round posted, ``outcome``
    ``posted`` or ``held_back``). ``record`` holds every field of the record.
    """

    __tablename__ = "chain_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    block: Mapped[int | None] = mapped_column(BigInteger)
    ts_s: Mapped[int | None] = mapped_column(BigInteger)
    subject: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
