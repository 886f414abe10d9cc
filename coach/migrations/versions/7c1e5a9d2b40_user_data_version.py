"""users.data_version: a counter of writes to a user's sessions and routines

Revision ID: 7c1e5a9d2b40
Revises: 51dfeed4caf3
Create Date: 2026-11-23 23:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '7c1e5a9d2b40'
down_revision = '51dfeed4caf3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('data_version')
