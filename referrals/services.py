"""Referral rules: giving invite codes, activating one, awarding points, editing a profile.

Activation checks and awards run in one transaction that locks, in primary-key order,
the referral profiles of the invitee, the inviter and the root of the inviter's referral
tree. The invitee has no inviter yet, so it is the root of its own tree, and a new edge
closes a cycle exactly when the invitee is the root of the inviter's tree. Two
activations that together close a cycle (``u1`` takes ``v1``'s code, ``u2`` takes
``v2``'s) need ``root(v1) == u2`` and ``root(v2) == u1``, so each locks the other's
invitee: they serialize, and the second, reading the root again under the locks, finds
itself there and refuses with ``invite_cycle``. A root changes only when that root
activates a code (which locks it) or when a user on the chain is deleted (which only
removes edges), so the root read again under the locks is safe to decide on.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Container, Mapping

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.text import capfirst

from phone_auth import ratelimit
from phone_auth.conf import app_settings as auth_settings
from phone_auth.errors import (
    InvalidInputError,
    RateLimitedError,
    ServiceUnavailableError,
    is_outage,
)
from phone_auth.typing import AuthUser
from phone_auth.users import is_unique_user_field, stored_value, user_field
from referrals import profile_cache
from referrals.conf import app_settings
from referrals.errors import (
    InviteAlreadyActivatedError,
    InviteCodeNotFoundError,
    InviteCycleError,
    OwnInviteCodeError,
)
from referrals.models import (
    INVITE_CODE_ALPHABET,
    INVITE_CODE_LENGTH,
    PointsEntry,
    Profile,
    Referral,
)
from referrals.selectors import points_sum
from referrals.signals import invite_activated, points_awarded

logger = logging.getLogger(__name__)

MAX_CODE_TRIES = 20
MAX_TREE_DEPTH = 1_000_000


# Random bytes at or above this are dropped, so ``byte % len(alphabet)`` stays uniform.
_UNBIASED_BYTE_LIMIT = 256 - 256 % len(INVITE_CODE_ALPHABET)
_MAX_RANDOM_CHUNK = 1 << 20


def invite_codes_generate(count: int, *, taken: Container[str] = frozenset()) -> list[str]:
    """``count`` distinct random invite codes (``secrets``) that are not in ``taken``.

    Each character is one random byte below ``_UNBIASED_BYTE_LIMIT`` mapped onto the
    look-alike-free alphabet, so every code is equally likely; a million codes take a
    couple of seconds, which ``seed_demo`` relies on.
    """
    codes: dict[str, None] = {}
    alphabet, length = INVITE_CODE_ALPHABET, INVITE_CODE_LENGTH
    while len(codes) < count:
        wanted = min(_MAX_RANDOM_CHUNK, 2 * length * (count - len(codes)))
        symbols = [
            alphabet[byte % len(alphabet)]
            for byte in secrets.token_bytes(wanted)
            if byte < _UNBIASED_BYTE_LIMIT
        ]
        for start in range(0, len(symbols) - length + 1, length):
            code = "".join(symbols[start : start + length])
            if code not in taken:
                codes[code] = None
    return list(codes)[:count]


def invite_code_generate() -> str:
    """A random invite code from ``secrets`` over the look-alike-free alphabet."""
    return invite_codes_generate(1)[0]


def invite_code_normalize(raw: str) -> str:
    """Codes are typed case-insensitively, with stray spaces."""
    return raw.strip().upper()


def profile_get_or_create(*, user: AuthUser) -> Profile:
    """The user's referral profile, created with a unique invite code on first need.

    A collision with an existing code is retried with a new random code (each try in a
    savepoint, so the surrounding transaction survives).
    """
    existing = Profile.objects.filter(user=user).first()
    if existing is not None:
        return existing
    for _ in range(MAX_CODE_TRIES):
        try:
            with transaction.atomic():
                return Profile.objects.create(user=user, invite_code=invite_code_generate())
        except IntegrityError:
            existing = Profile.objects.filter(user=user).first()
            if existing is not None:
                return existing
    raise RuntimeError("Could not find a free invite code; the code space is exhausted.")


def referral_root(user_id: int) -> int:
    """The top of ``user_id``'s inviter chain (itself when nobody invited it)."""
    table = Referral._meta.db_table
    # The seed row takes the type of the user key (integer for Django's ``User``, bigint
    # for a host's model on ``BigAutoField``): PostgreSQL refuses a recursive term whose
    # type differs from the seed's.
    key_type = Referral._meta.get_field("inviter").db_type(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE chain(user_id, depth) AS (
                SELECT CAST(%s AS {key_type}), 0
                UNION ALL
                SELECT r.inviter_id, c.depth + 1
                FROM {table} r JOIN chain c ON r.invitee_id = c.user_id
                WHERE r.inviter_id IS NOT NULL AND c.depth < %s
            )
            SELECT user_id FROM chain ORDER BY depth DESC LIMIT 1
            """,  # noqa: S608 - the table name is ours, values are parameters
            [user_id, MAX_TREE_DEPTH],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else user_id


def _failure_budgets(*, user: AuthUser, ip: str) -> list[ratelimit.Budget]:
    per_user, per_ip = (
        app_settings.FAILED_ACTIVATIONS_PER_USER,
        app_settings.FAILED_ACTIVATIONS_PER_IP,
    )
    client = ratelimit.client_key(ip)
    return [
        ratelimit.Budget(key=f"invite-fail:user:{user.pk}", limit=per_user[0], window=per_user[1]),
        ratelimit.Budget(key=f"invite-fail:ip:{client}", limit=per_ip[0], window=per_ip[1]),
    ]


def invite_activate(*, user: AuthUser, code: str, ip: str = "unknown") -> Referral:
    """Activate ``code`` for ``user``: record the referral and award both sides, once.

    Failed attempts (unknown code, own code, cycle) count against per-user and per-IP
    budgets, because guessing codes would otherwise harvest phone numbers. A failure is
    counted atomically before it is answered, and one past the budget answers
    ``rate_limited`` instead: a burst of parallel guesses learns no more than the budget.

    The cache only counts failures, so with it unreachable a valid activation still
    succeeds; a failure that cannot be counted answers ``service_unavailable`` (never what
    was wrong with the code, which would let guesses past the budget).
    """
    budgets = _failure_budgets(user=user, ip=ip) if auth_settings.RATE_LIMITS else []
    cache_down: Exception | None = None
    try:
        wait = ratelimit.is_spent(budgets)
    except Exception as exc:
        if not is_outage(exc):
            raise
        wait, cache_down = None, exc
    if wait is not None:
        raise RateLimitedError(wait)
    try:
        return _activate(user=user, code=invite_code_normalize(code))
    except (InviteCodeNotFoundError, OwnInviteCodeError, InviteCycleError):
        if budgets and cache_down is None:
            try:
                ratelimit.hit(budgets)
            except Exception as exc:
                if not is_outage(exc):
                    raise
                cache_down = exc
        if budgets and cache_down is not None:
            logger.warning("Failed activation not counted, cache unavailable: %s", cache_down)
            raise ServiceUnavailableError() from cache_down
        raise


def _activate(*, user: AuthUser, code: str) -> Referral:
    if Referral.objects.filter(invitee=user).exists():
        raise InviteAlreadyActivatedError()
    inviter_id = (
        Profile.objects.filter(invite_code=code).values_list("user_id", flat=True).first()
        if len(code) == INVITE_CODE_LENGTH
        else None
    )
    if inviter_id is None:
        raise InviteCodeNotFoundError()
    if inviter_id == user.pk:
        raise OwnInviteCodeError()
    profile_get_or_create(user=user)
    while True:
        root = referral_root(inviter_id)
        try:
            with transaction.atomic():
                locked = set(
                    Profile.objects.select_for_update()
                    .filter(user_id__in={int(user.pk), inviter_id, root})
                    .order_by("user_id")
                    .values_list("user_id", flat=True)
                )
                if inviter_id not in locked:  # the code's owner was deleted meanwhile
                    raise InviteCodeNotFoundError()
                if Referral.objects.filter(invitee=user).exists():
                    raise InviteAlreadyActivatedError()
                if referral_root(inviter_id) != root:
                    continue  # the inviter's tree moved while we waited for the locks
                if root == user.pk:
                    raise InviteCycleError()
                return _record(user=user, inviter_id=inviter_id, code=code)
        except IntegrityError as exc:  # only a parallel activation of the same invitee
            raise InviteAlreadyActivatedError() from exc


def _record(*, user: AuthUser, inviter_id: int, code: str) -> Referral:
    """Store the referral and append both awards to the ledger and the cached balances."""
    referral = Referral.objects.create(invitee=user, inviter_id=inviter_id, invite_code=code)
    invitee_bonus, inviter_bonus = app_settings.INVITEE_BONUS, app_settings.INVITER_BONUS
    PointsEntry.objects.bulk_create(
        [
            PointsEntry(
                user=user,
                amount=invitee_bonus,
                reason=PointsEntry.Reason.REFERRAL_INVITEE,
                referral=referral,
            ),
            PointsEntry(
                user_id=inviter_id,
                amount=inviter_bonus,
                reason=PointsEntry.Reason.REFERRAL_INVITER,
                referral=referral,
            ),
        ]
    )
    Profile.objects.filter(user=user).update(points=F("points") + invitee_bonus)
    Profile.objects.filter(user_id=inviter_id).update(points=F("points") + inviter_bonus)
    # Both balances change with the referral, whose save makes both kept profiles stale.
    # The inviter's profile is locked, so the user cannot be deleted before this read.
    inviter = get_user_model()._default_manager.get(pk=inviter_id)
    awards = (
        (user, invitee_bonus, PointsEntry.Reason.REFERRAL_INVITEE),
        (inviter, inviter_bonus, PointsEntry.Reason.REFERRAL_INVITER),
    )
    transaction.on_commit(
        lambda: _announce_activation(invitee=user, inviter=inviter, code=code, awards=awards)
    )
    return referral


def _announce_activation(
    *,
    invitee: AuthUser,
    inviter: AuthUser,
    code: str,
    awards: tuple[tuple[AuthUser, int, str], ...],
) -> None:
    """Send the activation's signals (after its commit); a failing receiver is logged."""
    results = invite_activated.send_robust(
        sender=__name__, invitee=invitee, inviter=inviter, invite_code=code
    )
    for user, amount, reason in awards:
        results += points_awarded.send_robust(
            sender=__name__, user=user, amount=amount, reason=reason
        )
    for receiver, outcome in results:
        if isinstance(outcome, Exception):
            logger.error("Signal receiver %r failed", receiver, exc_info=outcome)


def profile_update(
    *, user: AuthUser, fields: Mapping[str, str | None], invite_code: str | None = None, ip: str
) -> None:
    """Edit the caller's profile: activate ``invite_code`` first, then set ``fields``.

    The activation may fail (its error is the answer), and then nothing else changes.
    ``fields`` are attributes of the user (name and email), validated by the caller; a
    value another user holds in a unique column is ``invalid_input`` for that field:
    checked before anything changes, and answered by the database's constraint when
    another user takes the value while this write runs.
    """
    values = {name: stored_value(name, value) for name, value in fields.items()}
    unique = [
        name for name, value in values.items() if value is not None and is_unique_user_field(name)
    ]
    others = get_user_model()._default_manager.exclude(pk=user.pk)
    taken = [name for name in unique if others.filter(**{name: values[name]}).exists()]
    if taken:
        raise InvalidInputError(fields={name: [_unique_message(name)] for name in taken})
    if invite_code is not None:
        invite_activate(user=user, code=invite_code, ip=ip)
    if values:
        _user_fields_save(user=user, values=values, unique=unique)


def _unique_message(name: str) -> str:
    """Django's own "User with this Email address already exists." for the column ``name``."""
    model = get_user_model()
    field = user_field(name) or model._meta.pk
    return str(
        field.error_messages["unique"]
        % {
            "model_name": capfirst(model._meta.verbose_name),
            "field_label": capfirst(field.verbose_name),
        }
    )


def _user_fields_save(*, user: AuthUser, values: Mapping[str, object], unique: list[str]) -> None:
    before = {name: getattr(user, name) for name in values}
    try:
        with transaction.atomic():
            for name, value in values.items():
                setattr(user, name, value)
            user.save(update_fields=list(values))
    except IntegrityError as exc:
        for name, value in before.items():
            setattr(user, name, value)
        raise InvalidInputError(
            fields={name: [_unique_message(name)] for name in unique or values}
        ) from exc


def points_recompute(*, user_id: int) -> bool:
    """Set the cached balance of ``user_id`` to its ledger sum; ``True`` if it changed.

    The profile row is locked before the sum is read: activations lock it before they
    append, so no award can land between the sum and the write.
    """
    with transaction.atomic():
        profile = Profile.objects.select_for_update().filter(user_id=user_id).first()
        if profile is None:
            profile_get_or_create(user=get_user_model().objects.get(pk=user_id))
            profile = Profile.objects.select_for_update().get(user_id=user_id)
        total = points_sum(user_id=user_id)
        if profile.points == total:
            return False
        Profile.objects.filter(user_id=user_id).update(points=total)
        profile_cache.forget([user_id])
        return True
