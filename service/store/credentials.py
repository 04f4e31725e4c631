"""Credentials: case keys and API keys are generated here, shown once, stored only as hashes.

Both are 256-bit random tokens, so one SHA-256 is a sufficient one-way store
(no password stretching needed); comparisons run in constant time.
"""

import hashlib
import hmac
import secrets

CASE_KEY_PREFIX = "hbc_"
API_KEY_PREFIX = "hbk_"


def new_public_id(prefix: str) -> str:
    """Unguessable public identifiers (case ids, match ids): 80 random bits."""
    return prefix + secrets.token_hex(10)


def new_case_key() -> str:
    return CASE_KEY_PREFIX + secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
