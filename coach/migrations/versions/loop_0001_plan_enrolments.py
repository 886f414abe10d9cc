"""plan_enrolments: the day a person began a progressive plan, kept on the server

Revision ID: loop_0001
Revises: rules_0001
Create Date: 2026-12-01 19:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'loop_0001'
down_revision = 'rules_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'plan_enrolments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('plan', sa.String(length=64), nullable=False),
        sa.Column('start', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'plan'),
    )


def downgrade():
    op.drop_table('plan_enrolments')
