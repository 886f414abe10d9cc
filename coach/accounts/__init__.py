"""Accounts: who a person is to the coach (profile, addresses, passwords, tokens and devices,
confirmation and reset links, the account mail queue, data version, export)."""
