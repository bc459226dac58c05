"""Tokens of one-shot forms: issued to one user, checked without storing them.

A pure function of the token, the user's id and the app's secret, so that the forms that issue
tokens and the service that spends them (``portal.services.once``) share it from below both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_NONCE_CHARS = 22  # 16 random bytes, base64url


def once_token(user_id: int | None, secret: str, nonce: str | None = None) -> str:
    """A one-shot form's token: a random nonce and an HMAC-SHA256 of it with the user's id,
    keyed with SECRET_KEY (44 characters, URL-safe). Only a token the portal issued to this
    user is accepted (``once_token_valid``), so nobody can spend another's or invent one."""
    nonce = nonce or secrets.token_urlsafe(16)
    mac = hmac.new(secret.encode(), f"once:{user_id}:{nonce}".encode(), hashlib.sha256).digest()
    return nonce + base64.urlsafe_b64encode(mac[:16]).decode().rstrip("=")


def once_token_valid(token: str, user_id: int | None, secret: str) -> bool:
    if not isinstance(token, str) or len(token) != 2 * _NONCE_CHARS or not token.isascii():
        return False
    expected = once_token(user_id, secret, token[:_NONCE_CHARS])
    return hmac.compare_digest(expected, token)
