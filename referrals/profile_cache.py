"""Each login's ``GET /profile/`` answer, kept in Redis until something it shows changes.

A profile read of a user with many referrals is one statement, but that statement (the
session check, the count and the newest phones) is most of the read's cost on both the
worker and PostgreSQL, and clients poll the profile. So the event-loop reader
(``referrals.api``, PostgreSQL with a Redis cache) keeps the rendered body per login
session and answers the next read with one ``MGET``.

Invalidation is by generation: each user has a generation key holding a random tag, and a
kept body carries the tag it was read under. A body is answered only while its tag is
still the user's current one. Forgetting a user (``forget``) writes a new tag once the
writing transaction commits, which makes every kept body of that user stale at once,
on every instance. The reader keeps what it read only if the tag is still the one it saw
before reading the database (one Lua script), so a read that raced a write never keeps
the older answer. A tag lives longer than any body read under the tag before it, so a
tag that expires can never bring an old body back.

What forgets a user: saving or deleting the user, their phone, their referral profile, a
referral on either side, or one of their logins (model signals, so the admin and a
host's code through the ORM are covered), and every bulk write of the apps themselves
(balances, ending logins: ``phone_auth.signals.logins_ended``). A write that bypasses
the models (``QuerySet.update()`` or raw SQL in a host's code) must call ``forget``
itself; otherwise, like a write made while Redis is unreachable, its change shows once
the kept bodies expire (``REFERRALS_PROFILE_CACHE_TTL`` seconds, 0 keeps none).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from phone_auth import __version__
from phone_auth.models import LoginSession, PhoneAccount
from phone_auth.ratelimit import redis_client
from phone_auth.signals import logins_ended
from referrals.conf import app_settings
from referrals.models import Profile, Referral

if TYPE_CHECKING:
    import uuid

    from phone_auth.aio import LoopStore

logger = logging.getLogger(__name__)

#: A tag outlives the bodies read before it by this much (seconds; Redis expiry is exact
#: to the millisecond, this covers a slow script).
TAG_MARGIN = 5
#: Seconds a read waits for Redis before it asks the database instead: a hanging Redis
#: must not hold a read for the client's socket timeout (and its retry).
READ_WITHIN = 0.5
#: The tag of a user no write has touched lately (no generation key).
NO_TAG = b"-"
_SEPARATOR = b"|"
# KEYS: the generation key, the body key. ARGV: the tag the reader saw, the body, seconds.
_KEEP = """
local tag = redis.call('GET', KEYS[1]) or '-'
if tag ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], tag .. '|' .. ARGV[2], 'EX', ARGV[3])
return 1
"""
_BATCH = 500  # generation keys written per round trip


def ttl() -> int:
    """Seconds a body is kept (0: the cache is off)."""
    return max(0, app_settings.PROFILE_CACHE_TTL)


def generation_key(user_id: object, make_key: Callable[[str], str] | None = None) -> str:
    """The Redis key of ``user_id``'s current tag (the cache's prefix and version)."""
    return (make_key or cache.make_key)(f"profile:tag:{user_id}")


def body_key(
    user_id: object, session_id: uuid.UUID, make_key: Callable[[str], str] | None = None
) -> str:
    """The Redis key of one login's kept body.

    The body's shape is part of the key (the release and the referral cap), so a deploy
    that changes it never answers with a body kept by the one before.
    """
    shape = f"{__version__}/{app_settings.PROFILE_REFERRALS_LIMIT}"
    return (make_key or cache.make_key)(f"profile:{shape}:{user_id}:{session_id}")


async def aread(
    store: LoopStore, *, user_id: object, session_id: uuid.UUID
) -> tuple[bytes | None, bytes | None]:
    """The kept body of this login if it is current, and the tag to keep a fresh one under.

    ``(None, None)`` when Redis cannot answer: the caller reads the database and keeps
    nothing. The login must be checked before a body is kept, never after: the key holds
    the user and the session, and a body is kept only for a session the database
    confirmed (``akeep``).
    """
    if not ttl():
        return None, None
    from redis.exceptions import RedisError

    try:
        tag, kept = await asyncio.wait_for(
            store.redis.execute(
                "MGET",
                generation_key(user_id, store.make_key),
                body_key(user_id, session_id, store.make_key),
            ),
            READ_WITHIN,
        )
    except (RedisError, OSError, TimeoutError) as exc:
        logger.debug("Profile cache unreadable: %s", exc)
        return None, None
    tag = tag or NO_TAG
    if kept is not None:
        kept_tag, _, body = kept.partition(_SEPARATOR)
        if kept_tag == tag:
            return body, tag
    return None, tag


async def akeep(
    store: LoopStore, *, user_id: object, session_id: uuid.UUID, tag: bytes, body: bytes
) -> None:
    """Keep ``body`` for this login unless the user was forgotten since ``tag`` was read."""
    from redis.exceptions import RedisError

    try:
        await store.run_script(
            _KEEP,
            [
                generation_key(user_id, store.make_key),
                body_key(user_id, session_id, store.make_key),
            ],
            [tag, body, ttl()],
        )
    except (RedisError, OSError) as exc:
        logger.debug("Profile cache not written: %s", exc)


def forget(user_ids: Iterable[object]) -> None:
    """Make every kept profile of these users stale, once the current transaction commits.

    Outside a transaction it happens at once. Nothing happens when the cache is not Redis
    (no instance keeps bodies then). Redis being unreachable is logged, not raised: the
    write itself has happened.
    """
    ids = sorted({str(user_id) for user_id in user_ids if user_id is not None})
    if ids and ttl() and redis_client() is not None:
        transaction.on_commit(lambda: _write_tags(ids))


def _write_tags(user_ids: list[str]) -> None:
    from redis.exceptions import RedisError

    client = redis_client()
    if client is None:
        return
    seconds = ttl() + TAG_MARGIN
    try:
        for start in range(0, len(user_ids), _BATCH):
            pipe = client.pipeline(transaction=False)
            for user_id in user_ids[start : start + _BATCH]:
                pipe.set(generation_key(user_id), secrets.token_hex(8), ex=seconds)
            pipe.execute()
    except (RedisError, OSError) as exc:
        logger.warning(
            "Kept profiles of %d user(s) could not be made stale (Redis: %s); they show "
            "the change within %d s.",
            len(user_ids),
            exc,
            seconds,
        )


def _neighbours(user_id: object) -> list[object]:
    """The users whose profiles show ``user_id``'s phone: their inviter and invitees."""
    rows = Referral.objects.filter(Q(invitee_id=user_id) | Q(inviter_id=user_id)).values_list(
        "inviter_id", "invitee_id"
    )
    return [other for pair in rows for other in pair]


# Receivers. ``dispatch_uid`` keeps each one connected once however often this is imported.


def _user_saved(
    sender: Any, instance: Any, created: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    if created:
        return  # nobody has logged in as a user that did not exist
    if update_fields is not None and set(update_fields) <= {"last_login", "password"}:
        return  # what a login writes; the profile shows neither
    forget([instance.pk])


def _user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget([instance.pk, *_neighbours(instance.pk)])


@receiver(post_save, sender=PhoneAccount, dispatch_uid="profile_cache.phone_saved")
@receiver(pre_delete, sender=PhoneAccount, dispatch_uid="profile_cache.phone_deleted")
def _phone_changed(sender: Any, instance: PhoneAccount, **kwargs: Any) -> None:
    forget([instance.user_id, *_neighbours(instance.user_id)])


@receiver(post_save, sender=Profile, dispatch_uid="profile_cache.profile_saved")
@receiver(post_delete, sender=Profile, dispatch_uid="profile_cache.profile_deleted")
def _profile_changed(sender: Any, instance: Profile, **kwargs: Any) -> None:
    forget([instance.user_id])


@receiver(post_save, sender=Referral, dispatch_uid="profile_cache.referral_saved")
@receiver(post_delete, sender=Referral, dispatch_uid="profile_cache.referral_deleted")
def _referral_changed(sender: Any, instance: Referral, **kwargs: Any) -> None:
    forget([instance.inviter_id, instance.invitee_id])


@receiver(post_save, sender=LoginSession, dispatch_uid="profile_cache.login_saved")
def _login_saved(sender: Any, instance: LoginSession, created: bool = False, **kwargs: Any) -> None:
    if not created:  # a new login has nothing kept yet
        forget([instance.user_id])


@receiver(post_delete, sender=LoginSession, dispatch_uid="profile_cache.login_deleted")
def _login_deleted(sender: Any, instance: LoginSession, **kwargs: Any) -> None:
    forget([instance.user_id])


@receiver(logins_ended, dispatch_uid="profile_cache.logins_ended")
def _logins_ended(sender: Any, user_ids: Iterable[object], **kwargs: Any) -> None:
    forget(user_ids)


def connect_user_model() -> None:
    """Connect the receivers of the user model (known only once the apps are loaded)."""
    model = get_user_model()
    post_save.connect(_user_saved, sender=model, dispatch_uid="profile_cache.user_saved")
    pre_delete.connect(_user_deleted, sender=model, dispatch_uid="profile_cache.user_deleted")
