"""The chain's records: keeper decisions, keeper transaction events, oracle submissions

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 16:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('chain_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('block', sa.BigInteger(), nullable=True),
    sa.Column('ts_s', sa.BigInteger(), nullable=True),
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chain_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_records_kind'), ['kind'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('chain_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_records_kind'))

    op.drop_table('chain_records')
