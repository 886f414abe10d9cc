"""push_subscriptions.failures and set_aside_until: an endpoint that keeps timing out is
set aside for hours

Revision ID: tick_0001
Revises: accounts_0001
Create Date: 2026-12-01 19:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'tick_0001'
down_revision = 'accounts_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('set_aside_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('set_aside_until')
        batch_op.drop_column('failures')
