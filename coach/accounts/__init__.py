"""Accounts: who a person is to the coach (profile, password, tokens, data version)."""
