"""users.language: the language everything the user reads is written in (en, de, es, fr)

Revision ID: i18n_0001
Revises: passkeys_0001
Create Date: 2026-12-01 19:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'i18n_0001'
down_revision = 'passkeys_0001'
branch_labels = None
depends_on = None


def upgrade():
    # Existing accounts read English, as they did before.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
