"""Account lifecycle: confirmed addresses, reset and change links, devices, the account mail queue

Revision ID: accounts_0001
Revises: limits_0001
Create Date: 2026-12-01 19:00:00

Existing accounts start unconfirmed (their address was never proved), so their weekly
summary waits until they confirm from the app's banner: no address gets mail it did not ask for.
"""
import sqlalchemy as sa
from alembic import op

revision = 'accounts_0001'
down_revision = 'limits_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pending_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('confirm_nonce', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('reset_nonce', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=5), server_default='en', nullable=False))
    op.execute("UPDATE users SET digest_next_at = NULL, digest_planned_at = NULL")
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_token_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_push_subscriptions_auth_token_id'), ['auth_token_id'], unique=False)
        batch_op.create_foreign_key(
            'fk_push_subscriptions_auth_token_id_auth_tokens', 'auth_tokens', ['auth_token_id'], ['id'], ondelete='CASCADE'
        )
    op.create_table(
        'account_emails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('other_address', sa.String(length=254), nullable=True),
        sa.Column('nonce', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('detail', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('account_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_emails_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_emails_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('account_emails')
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_push_subscriptions_auth_token_id_auth_tokens', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_auth_token_id'))
        batch_op.drop_column('auth_token_id')
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('label')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
        batch_op.drop_column('reset_nonce')
        batch_op.drop_column('confirm_nonce')
        batch_op.drop_column('pending_email')
        batch_op.drop_column('email_confirmed_at')
