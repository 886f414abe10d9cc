"""practice_sessions (user_id, created_at): counting a user's new sessions of the day (the cap)

Revision ID: limits_0001
Revises: passkeys_0001
Create Date: 2026-12-01 19:00:00

"""
from alembic import op

revision = 'limits_0001'
down_revision = 'passkeys_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_sessions_user_created', 'practice_sessions', ['user_id', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_sessions_user_created', table_name='practice_sessions')
