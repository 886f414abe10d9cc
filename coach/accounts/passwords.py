"""Passwords: one argon2 hasher, and a check that costs the same whether or not the account exists."""
from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..models import User

_hasher = PasswordHasher()


@functools.lru_cache(maxsize=2)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when the email is unknown, so a login takes as long either way. Made
    by the hasher in use (once), so its cost is always that of a real account's hash."""
    return hasher.hash("not a real password, only for timing")


class WrongPassword(Exception):
    pass


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_against_nobody(password: str) -> None:
    """Spend what a real check costs, for an unknown email, so the answer's timing tells nothing."""
    check_password(User(password_hash=_dummy_hash(_hasher)), password)
