"""practice_sessions.short (a session practised for less than 60 s counts nowhere), and the
per-day and per-block sums of each user's sessions (practice_days, practice_blocks,
practice_day_state) that insights read

Revision ID: rules_0001
Revises: tick_0001
Create Date: 2026-12-01 19:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'rules_0001'
down_revision = 'tick_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('practice_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short', sa.Boolean(), server_default=sa.false(), nullable=False))
    # Empty at first: each user's sums are built from their sessions at their next read.
    op.create_table(
        'practice_day_state',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'practice_days',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('routine', sa.String(length=64), nullable=False),
        sa.Column('sessions', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Integer(), nullable=False),
        sa.Column('mood_n', sa.Integer(), nullable=False),
        sa.Column('mood_sum_d', sa.Integer(), nullable=False),
        sa.Column('mood_sum_d2', sa.Integer(), nullable=False),
        sa.Column('mood_sum_x', sa.Integer(), nullable=False),
        sa.Column('mood_sum_x2', sa.Integer(), nullable=False),
        sa.Column('mood_sum_xd', sa.Integer(), nullable=False),
        sa.Column('anxiety_n', sa.Integer(), nullable=False),
        sa.Column('anxiety_sum_d', sa.Integer(), nullable=False),
        sa.Column('anxiety_sum_d2', sa.Integer(), nullable=False),
        sa.Column('anxiety_sum_x', sa.Integer(), nullable=False),
        sa.Column('anxiety_sum_x2', sa.Integer(), nullable=False),
        sa.Column('anxiety_sum_xd', sa.Integer(), nullable=False),
        sa.Column('energy_n', sa.Integer(), nullable=False),
        sa.Column('energy_sum_d', sa.Integer(), nullable=False),
        sa.Column('energy_sum_d2', sa.Integer(), nullable=False),
        sa.Column('energy_sum_x', sa.Integer(), nullable=False),
        sa.Column('energy_sum_x2', sa.Integer(), nullable=False),
        sa.Column('energy_sum_xd', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'day', 'routine'),
    )
    op.create_table(
        'practice_blocks',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('block', sa.Integer(), nullable=False),
        sa.Column('routine', sa.String(length=64), nullable=False),
        sa.Column('sessions', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Integer(), nullable=False),
        sa.Column('mood_n', sa.Integer(), nullable=False),
        sa.Column('mood_sum_d', sa.Integer(), nullable=False),
        sa.Column('mood_sum_d2', sa.Integer(), nullable=False),
        sa.Column('mood_sum_x', sa.Integer(), nullable=False),
        sa.Column('mood_sum_x2', sa.Integer(), nullable=False),
        sa.Column('mood_sum_xd', sa.Integer(), nullable=False),
        sa.Column('anxiety_n', sa.Integer(), nullable=False),
        sa.Column('anxiety_sum_d', sa.Integer(), nullable=False),
        sa.Column('anxiety_sum_d2', sa.Integer(), nullable=False),
        sa.Column('anxiety_sum_x', sa.Integer(), nullable=False),
        sa.Column('anxiety_sum_x2', sa.Integer(), nullable=False),
        sa.Column('anxiety_sum_xd', sa.Integer(), nullable=False),
        sa.Column('energy_n', sa.Integer(), nullable=False),
        sa.Column('energy_sum_d', sa.Integer(), nullable=False),
        sa.Column('energy_sum_d2', sa.Integer(), nullable=False),
        sa.Column('energy_sum_x', sa.Integer(), nullable=False),
        sa.Column('energy_sum_x2', sa.Integer(), nullable=False),
        sa.Column('energy_sum_xd', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'block', 'routine'),
    )


def downgrade():
    op.drop_table('practice_blocks')
    op.drop_table('practice_days')
    op.drop_table('practice_day_state')
    with op.batch_alter_table('practice_sessions', schema=None) as batch_op:
        batch_op.drop_column('short')
