"""DRF authentication: a bearer access token whose login session is still open.

One query loads the session and its user together, so checking for logout costs
nothing over simplejwt's own user lookup. ``bearer_claims`` is the cheap first half for
views that check the session in their own statement (the profile read).
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import Token

from phone_auth.models import LoginSession
from phone_auth.tokens import (
    SESSION_CLAIM,
    AccessClaims,
    SessionAccessToken,
    access_claims,
    jwt_settings,
)
from phone_auth.typing import AuthUser


class SessionTokenAuthentication(JWTAuthentication):
    """``Authorization: Bearer <access>``; refused once its login session is revoked."""

    www_authenticate_realm = "api"

    def get_validated_token(self, raw_token: bytes) -> Token:
        """Accept only our session-bound access tokens (never a refresh token)."""
        try:
            return SessionAccessToken(raw_token)  # type: ignore[arg-type]
        except Exception as exc:
            raise InvalidToken() from exc

    def get_user(self, validated_token: Token) -> AuthUser:  # type: ignore[override]
        """The token's user, if its login session is open and the user is active."""
        try:
            session_id = uuid.UUID(str(validated_token.get(SESSION_CLAIM)))
        except ValueError as exc:
            raise InvalidToken() from exc
        session = (
            LoginSession.objects.select_related("user")
            .filter(id=session_id, revoked_at__isnull=True)
            .first()
        )
        if session is None or not getattr(session.user, "is_active", True):
            raise InvalidToken()
        if str(session.user.pk) != str(validated_token.get("user_id")):
            raise InvalidToken()
        return session.user


def bearer_claims(request: HttpRequest) -> AccessClaims | None:
    """The claims of a valid ``Authorization: Bearer <access>`` header, else ``None``.

    Only the token is checked here: the caller must still find its session open and its
    user active (in the same statement that reads what it answers), and give anything
    else to ``SessionTokenAuthentication`` for the exact error.
    """
    current = jwt_settings()
    parts = str(request.META.get(current.AUTH_HEADER_NAME, "")).split()
    if len(parts) != 2 or parts[0] not in current.AUTH_HEADER_TYPES:
        return None
    return access_claims(parts[1])
