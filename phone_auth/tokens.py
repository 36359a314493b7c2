"""JWT tokens bound to a login session (a refresh-token family).

simplejwt signs and verifies; this module adds what it lacks: a ``sid`` claim tying
every token to a ``LoginSession`` (so logout stops access tokens at once), a ``kid``
header for the JWKS, and refresh rotation where each refresh token is consumed exactly
once by one conditional ``UPDATE``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models, transaction
from django.utils import timezone
from rest_framework.settings import APISettings
from rest_framework_simplejwt import settings as simplejwt_settings
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from phone_auth.conf import app_settings
from phone_auth.errors import TokenNotValidError
from phone_auth.keys import public_jwk
from phone_auth.models import LoginSession, RefreshTokenRecord
from phone_auth.signals import logins_ended
from phone_auth.typing import AuthUser

SESSION_CLAIM = "sid"


def jwt_settings() -> APISettings:
    """simplejwt's settings as they are now.

    simplejwt rebinds its module-level ``api_settings`` when ``SIMPLE_JWT`` changes, so a
    name imported once would keep signing with the old algorithm and keys.
    """
    return simplejwt_settings.api_settings


class KeyedTokenBackend(TokenBackend):
    """simplejwt's backend plus a ``kid`` header when tokens are signed with a key pair."""

    def encode(self, payload: dict[str, Any]) -> str:
        """Sign ``payload`` with ``aud``/``iss`` and, for key pairs, the key's ``kid``."""
        jwt_payload = payload.copy()
        if self.audience is not None:
            jwt_payload["aud"] = self.audience
        if self.issuer is not None:
            jwt_payload["iss"] = self.issuer
        jwk = public_jwk(self.algorithm, str(self.verifying_key or ""))
        headers = {"kid": jwk["kid"]} if jwk else None
        return jwt.encode(
            jwt_payload,
            self.prepared_signing_key,
            algorithm=self.algorithm,
            headers=headers,
            json_encoder=self.json_encoder,
        )


@lru_cache(maxsize=4)
def _backend(
    algorithm: str,
    signing_key: str,
    verifying_key: str,
    audience: str,
    issuer: str,
    leeway: float | timedelta,
) -> KeyedTokenBackend:
    return KeyedTokenBackend(
        algorithm,
        signing_key,
        verifying_key,
        audience or None,
        issuer or None,
        None,
        leeway,
        jwt_settings().JSON_ENCODER,
    )


def _backend_settings() -> tuple[str, str, str, str, str, float | timedelta]:
    current = jwt_settings()
    return (
        current.ALGORITHM,
        str(current.SIGNING_KEY),
        str(current.VERIFYING_KEY or ""),
        str(current.AUDIENCE or ""),
        str(current.ISSUER or ""),
        current.LEEWAY,
    )


def token_backend() -> KeyedTokenBackend:
    """The backend for the current settings (rebuilt when tests override them)."""
    return _backend(*_backend_settings())


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """Who a verified access token speaks for: its user and its login session."""

    user_id: object
    session_id: uuid.UUID


def access_claims(raw: str | bytes) -> AccessClaims | None:
    """The claims of a valid access token, or ``None``; PyJWT alone, no token objects.

    The same checks as ``SessionAccessToken``: signature with the configured algorithm
    and key, ``exp`` present and not past, ``aud`` and ``iss``, a ``jti``, the ``access``
    token type, and a well-formed session id. Whether the session is still open is the
    database's to say.
    """
    configured = _backend_settings()
    key = (configured, raw)
    cached = _verified.get(key)
    if cached is not None:
        claims, expires = cached
        if time.time() < expires:
            return claims
    claims_or_none = _verify_access(_backend(*configured), raw)
    if claims_or_none is not None:
        claims, expires = claims_or_none
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[key] = (claims, expires)
        return claims
    return None


# Access tokens already verified, with the moment they expire: a client sends the same
# token for minutes, and the same bytes under the same key always verify the same way.
# Keyed by the signing settings too, so other keys or settings verify again.
_VERIFIED_MAX = 4096
_verified: dict[tuple[tuple[object, ...], str | bytes], tuple[AccessClaims, float]] = {}


def _verify_access(
    backend: KeyedTokenBackend, raw: str | bytes
) -> tuple[AccessClaims, float] | None:
    current = jwt_settings()
    try:
        payload = jwt.decode(
            raw,
            backend.get_verifying_key(raw),  # type: ignore[arg-type]
            algorithms=[backend.algorithm],
            audience=backend.audience,
            issuer=backend.issuer,
            leeway=backend.get_leeway(),
            options={"require": ["exp"], "verify_aud": backend.audience is not None},
        )
    except (jwt.InvalidTokenError, TokenError, TokenBackendError):
        return None
    if current.JTI_CLAIM is not None and current.JTI_CLAIM not in payload:
        return None
    claim = current.TOKEN_TYPE_CLAIM
    if claim is not None and payload.get(claim) != SessionAccessToken.token_type:
        return None
    user_id = payload.get(current.USER_ID_CLAIM)
    try:
        session_id = uuid.UUID(str(payload.get(SESSION_CLAIM)))
    except ValueError:
        return None
    if user_id is None:
        return None
    leeway = backend.get_leeway().total_seconds()
    return AccessClaims(user_id=user_id, session_id=session_id), float(payload["exp"]) + leeway


class SessionAccessToken(AccessToken):
    """Access token; valid only while its login session is."""

    def get_token_backend(self) -> TokenBackend:
        """Use the keyed backend."""
        return token_backend()


class SessionRefreshToken(RefreshToken):
    """Refresh token; its access tokens are ``SessionAccessToken``."""

    access_token_class = SessionAccessToken

    def get_token_backend(self) -> TokenBackend:
        """Use the keyed backend."""
        return token_backend()


@dataclass(frozen=True)
class TokenPair:
    """What the client gets after a sign-in or a refresh."""

    access: str
    refresh: str
    expires_in: int


def _issue(session: LoginSession, user: AuthUser) -> TokenPair:
    refresh = SessionRefreshToken.for_user(user)
    refresh[SESSION_CLAIM] = str(session.id)
    RefreshTokenRecord.objects.create(
        jti=str(refresh[jwt_settings().JTI_CLAIM]),
        session=session,
        expires_at=datetime.fromtimestamp(int(refresh["exp"]), tz=UTC),
    )
    return _pair(refresh)


def _pair(refresh: RefreshToken) -> TokenPair:
    return TokenPair(
        access=str(refresh.access_token),
        refresh=str(refresh),
        expires_in=int(jwt_settings().ACCESS_TOKEN_LIFETIME.total_seconds()),
    )


def session_start(*, user: AuthUser) -> TokenPair:
    """Open a new login session for ``user`` and issue its first token pair."""
    with transaction.atomic():
        session = LoginSession.objects.create(user=user)
        return _issue(session, user)


def _decode_refresh(raw: str) -> SessionRefreshToken:
    try:
        token = SessionRefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise TokenNotValidError() from exc
    if SESSION_CLAIM not in token or jwt_settings().JTI_CLAIM not in token:
        raise TokenNotValidError()
    return token


def _session_id(token: SessionRefreshToken) -> uuid.UUID:
    try:
        return uuid.UUID(str(token[SESSION_CLAIM]))
    except ValueError as exc:
        raise TokenNotValidError() from exc


@lru_cache(maxsize=4)
def _rotation_sql(model: type[models.Model]) -> str | None:
    """The one statement that rotates a refresh token (PostgreSQL), for this user model.

    It consumes the old token only while its login is open and its user active, and
    records the new token, or changes nothing (as the ORM way's rolled-back transaction).
    ``None`` when the model's ``is_active`` is not a column: then only the ORM can tell.
    """
    quote = connection.ops.quote_name
    try:
        active_field = model._meta.get_field("is_active")
    except FieldDoesNotExist:
        active_field = None
    active = getattr(active_field, "column", None) if active_field is not None else None
    if active is None and getattr(model, "is_active", True) is not True:
        return None
    records = quote(RefreshTokenRecord._meta.db_table)
    pk = quote(str(model._meta.pk.column if model._meta.pk else "id"))
    return f"""
        WITH consumed AS (
            UPDATE {records} r SET consumed_at = %(now)s
            FROM {quote(LoginSession._meta.db_table)} s
            JOIN {quote(str(model._meta.db_table))} u ON u.{pk} = s.user_id
                {f"AND u.{quote(str(active))}" if active else ""}
            WHERE r.jti = %(jti)s AND r.session_id = %(session)s AND r.consumed_at IS NULL
                AND s.id = r.session_id AND s.revoked_at IS NULL
            RETURNING s.user_id
        ), issued AS (
            INSERT INTO {records} (jti, session_id, created_at, expires_at)
            SELECT %(new_jti)s, %(session)s, %(now)s, %(expires)s FROM consumed
        )
        SELECT user_id FROM consumed
    """  # noqa: S608 - only names from the models' metadata, every value is a parameter


def _rotation_statement() -> str | None:
    if connection.vendor != "postgresql" or jwt_settings().CHECK_REVOKE_TOKEN:
        return None
    return _rotation_sql(get_user_model())


def _rotate(
    statement: str, *, jti: str, session_id: uuid.UUID, now: datetime
) -> SessionRefreshToken | None:
    """The next refresh token of the login, or ``None`` when nothing was consumed."""
    fresh = SessionRefreshToken()
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            {
                "now": now,
                "jti": jti,
                "session": session_id,
                "new_jti": str(fresh[jwt_settings().JTI_CLAIM]),
                "expires": datetime.fromtimestamp(int(fresh["exp"]), tz=UTC),
            },
        )
        row = cursor.fetchone()
    if row is None:  # not consumed: spent already, or its login is closed or user disabled
        return None
    fresh[jwt_settings().USER_ID_CLAIM] = str(row[0])
    fresh[SESSION_CLAIM] = str(session_id)
    return fresh


def token_refresh(*, raw: str) -> TokenPair:
    """Rotate a refresh token: the old one is consumed exactly once.

    A replay of a consumed token is refused; past the grace period it is taken as theft
    and revokes the whole session (every token of that login). On PostgreSQL the rotation
    is one statement (one round trip, one commit); elsewhere a transaction of the same
    steps.
    """
    token = _decode_refresh(raw)
    jti = str(token[jwt_settings().JTI_CLAIM])
    session_id = _session_id(token)
    now = timezone.now()
    statement = _rotation_statement()
    if statement is not None:
        fresh = _rotate(statement, jti=jti, session_id=session_id, now=now)
        if fresh is not None:
            return _pair(fresh)
    else:
        with transaction.atomic():
            consumed = RefreshTokenRecord.objects.filter(
                jti=jti, session_id=session_id, consumed_at__isnull=True
            ).update(consumed_at=now)
            if consumed == 1:
                session = LoginSession.objects.select_related("user").get(id=session_id)
                if session.revoked_at is not None or not getattr(session.user, "is_active", True):
                    raise TokenNotValidError()
                return _issue(session, session.user)
    record = RefreshTokenRecord.objects.filter(jti=jti).first()
    grace = timedelta(seconds=app_settings.REFRESH_REUSE_GRACE)
    if record and record.consumed_at and now - record.consumed_at > grace:
        login = LoginSession.objects.filter(id=record.session_id, revoked_at__isnull=True)
        owners = list(login.values_list("user_id", flat=True))
        if login.update(revoked_at=now, revoke_reason="refresh_reuse"):
            announce_logins_ended(owners)
    raise TokenNotValidError()


def session_logout(*, user: AuthUser, raw_refresh: str) -> None:
    """End the login that ``raw_refresh`` belongs to (it must be the caller's)."""
    token = _decode_refresh(raw_refresh)
    if str(token[jwt_settings().USER_ID_CLAIM]) != str(user.pk):
        raise TokenNotValidError()
    if LoginSession.objects.filter(
        id=_session_id(token), user=user, revoked_at__isnull=True
    ).update(revoked_at=timezone.now(), revoke_reason="logout"):
        announce_logins_ended([user.pk])


def sessions_logout_all(*, user: AuthUser) -> int:
    """End every login of ``user``; returns how many were open."""
    ended = LoginSession.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoke_reason="logout_all"
    )
    if ended:
        announce_logins_ended([user.pk])
    return ended


def announce_logins_ended(user_ids: list[Any]) -> None:
    """Send ``logins_ended`` once the ending commits (at once outside a transaction)."""
    transaction.on_commit(
        lambda: logins_ended.send(sender=__name__, user_ids=user_ids), robust=True
    )
