"""The kept profile answer (``referrals.profile_cache``): answered from Redis until a write
changes what it shows, then never again.

Reads here go the way the ASGI server serves them (the event loop, PostgreSQL and Redis);
writes go through the API, the admin and the ORM as a user, staff or a host project makes
them, and commit for real (``transaction=True``), so each invalidation runs as it does in
production.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, connections
from django.test import AsyncClient, override_settings

from phone_auth import aio
from phone_auth.models import LoginSession, PhoneAccount
from phone_auth.ratelimit import redis_client
from phone_auth.tokens import session_start
from referrals import profile_cache
from referrals.api import ProfileOutputSerializer
from referrals.models import Profile
from referrals.selectors import profile_view
from referrals.services import invite_activate, points_recompute
from tests.referrals.support import code_of
from tests.support import bearer

pytestmark = pytest.mark.django_db(transaction=True)

PROFILE = "/api/v1/profile/"


def served(access: str) -> tuple[int, dict[str, Any]]:
    """``GET /profile/`` as the ASGI server serves it: status and JSON body."""

    async def main() -> tuple[int, dict[str, Any]]:
        async with ThreadSensitiveContext():
            assert aio.loop_store() is not None
            try:
                response = await AsyncClient().get(
                    PROFILE, headers={"Authorization": f"Bearer {access}"}
                )
            finally:
                await aio.close_loop_store()
                # The test client keeps a request's connection open; this one belongs to
                # the context's thread, which ends with the context.
                await sync_to_async(connections.close_all)()
        return response.status_code, response.json()

    return asyncio.run(main())


def kept_bodies() -> list[bytes]:
    """The keys of the profile bodies Redis holds now."""
    client = redis_client()
    return list(client.scan_iter(match=cache.make_key("profile:*:*:*")))


def set_name_behind_the_models(user: Any, name: str) -> None:
    """A write no model signal sees, as a host's raw SQL makes it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {get_user_model()._meta.db_table} SET first_name = %s WHERE id = %s",  # noqa: S608
            [name, user.pk],
        )


@pytest.fixture
def login(make_user: Callable[..., Any]) -> Callable[..., tuple[Any, str]]:
    """A user and the access token of a fresh login."""

    def _login(user: Any = None) -> tuple[Any, str]:
        user = user or make_user()
        return user, session_start(user=user).access

    return _login


def test_a_read_is_kept_and_the_next_one_answered_from_it(login):
    user, access = login()

    status, body = served(access)
    assert body == dict(ProfileOutputSerializer(profile_view(user=user)).data)
    set_name_behind_the_models(user, "Behind")
    again_status, again = served(access)

    assert status == again_status == 200
    assert again == body  # kept: the write behind the models is not seen yet
    assert len(kept_bodies()) == 1
    profile_cache.forget([user.pk])  # what a host's own bulk write must call
    assert served(access)[1]["first_name"] == "Behind"


def test_each_login_has_its_own_kept_body_and_a_closed_one_is_not_served(login):
    user, first = login()
    _, second = login(user)
    assert served(first)[0] == served(second)[0] == 200
    assert len(kept_bodies()) == 2

    api = bearer(first)
    api.post("/api/v1/auth/logout-all/")

    assert served(first)[0] == 401
    assert served(second)[0] == 401


def write_name(user: Any, api: Any, **_: Any) -> None:
    assert api.patch(PROFILE, {"first_name": "Анна"}, format="json").status_code == 200


def activate(user: Any, api: Any, inviter: Any, **_: Any) -> None:
    response = api.patch(PROFILE, {"activated_invite_code": code_of(inviter)}, format="json")
    assert response.status_code == 200


def logout(user: Any, api: Any, refresh: str, **_: Any) -> None:
    assert api.post("/api/v1/auth/logout/", {"refresh": refresh}, format="json").status_code == 204


def disable(user: Any, **_: Any) -> None:
    user.is_active = False
    user.save()


def change_phone(user: Any, **_: Any) -> None:
    account = PhoneAccount.objects.get(user=user)
    account.phone = "+79119998877"
    account.save()


def delete_login(user: Any, **_: Any) -> None:
    LoginSession.objects.filter(user=user).delete()


def fix_points(user: Any, access: str, **_: Any) -> None:
    Profile.objects.filter(user=user).update(points=999)  # a broken balance, behind the models
    profile_cache.forget([user.pk])
    assert served(access)[1]["points"] == 999
    assert points_recompute(user_id=user.pk)


def new_invite_code(user: Any, **_: Any) -> None:
    profile = Profile.objects.get(user=user)
    profile.invite_code = "ZZZ999"
    profile.save()


def delete_profile(user: Any, **_: Any) -> None:
    Profile.objects.get(user=user).delete()


WRITES: dict[str, tuple[Callable[..., None], Callable[[int, dict[str, Any]], bool]]] = {
    "name through the API": (write_name, lambda s, b: b["first_name"] == "Анна"),
    "activation through the API": (
        activate,
        lambda s, b: b["inviter_phone"] is not None and b["points"] == 100,
    ),
    "logout": (logout, lambda s, b: s == 401),
    "disabled in the admin's way": (disable, lambda s, b: s in (401, 403)),
    "phone changed": (change_phone, lambda s, b: b["phone"] == "+79119998877"),
    "login deleted": (delete_login, lambda s, b: s == 401),
    "balance recomputed": (fix_points, lambda s, b: b["points"] == 0),
    "invite code changed": (new_invite_code, lambda s, b: b["invite_code"] == "ZZZ999"),
    "referral profile deleted": (delete_profile, lambda s, b: b["invite_code"] is None),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_shows_in_the_next_read(write, login, make_user):
    inviter = make_user()
    user = make_user()
    pair = session_start(user=user)
    assert served(pair.access)[0] == 200
    change, shows = WRITES[write]

    change(
        user=user,
        api=bearer(pair.access),
        access=pair.access,
        refresh=pair.refresh,
        inviter=inviter,
    )

    status, body = served(pair.access)
    assert shows(status, body), (status, body)


def test_the_other_side_of_a_referral_shows_it(login, make_user):
    inviter, inviter_access = login()
    invitee, invitee_access = login()
    assert served(inviter_access)[1]["referrals"] == []
    before = served(invitee_access)[1]
    assert before["inviter_phone"] is None

    invite_activate(user=invitee, code=code_of(inviter))
    mine = served(inviter_access)[1]
    assert mine["referrals"] == [str(invitee.phone_account.phone)]
    assert mine["points"] == 200

    change_phone(user=invitee)
    assert served(inviter_access)[1]["referrals"] == ["+79119998877"]

    inviter_phone = served(invitee_access)[1]["inviter_phone"]
    assert inviter_phone == str(inviter.phone_account.phone)
    PhoneAccount.objects.filter(user=inviter).update(phone="+79119998866")
    profile_cache.forget([invitee.pk])
    assert served(invitee_access)[1]["inviter_phone"] == "+79119998866"

    get_user_model().objects.get(pk=invitee.pk).delete()
    after = served(inviter_access)[1]
    assert after["referrals"] == []
    assert after["referrals_count"] == 0


def test_deleting_the_inviter_shows_in_the_invitee_s_profile(login, make_user):
    inviter = make_user()
    invitee, access = login()
    invite_activate(user=invitee, code=code_of(inviter))
    assert served(access)[1]["inviter_phone"] == str(inviter.phone_account.phone)

    get_user_model().objects.get(pk=inviter.pk).delete()

    assert served(access)[1]["inviter_phone"] is None


def test_the_admin_s_revoke_action_closes_a_kept_login(login, admin_client):
    from tests.referrals.test_admin import CHANGELISTS

    user, access = login()
    assert served(access)[0] == 200
    session = LoginSession.objects.get(user=user)

    admin_client.post(
        CHANGELISTS["login"], {"action": "revoke", "_selected_action": [str(session.pk)]}
    )

    assert served(access)[0] == 401


@override_settings(PHONE_AUTH_REFRESH_REUSE_GRACE=0)
def test_a_replayed_refresh_token_closes_a_kept_login(login, api_client):
    user = login()[0]
    pair = session_start(user=user)
    assert served(pair.access)[0] == 200
    rotated = api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": pair.refresh}, format="json"
    )
    assert rotated.status_code == 200

    replay = api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": pair.refresh}, format="json"
    )

    assert replay.status_code == 401
    assert served(pair.access)[0] == 401


def test_a_read_that_raced_a_write_keeps_nothing(login):
    user = login()[0]
    claims_user, claims_session = str(user.pk), LoginSession.objects.get(user=user).id

    async def raced() -> tuple[bytes | None, bytes | None]:
        SyncToAsync.thread_sensitive_context.set(ThreadSensitiveContext())
        store = aio.loop_store()
        assert store is not None
        try:
            kept, tag = await profile_cache.aread(
                store, user_id=claims_user, session_id=claims_session
            )
            assert kept is None
            assert tag is not None
            # The write commits and forgets the user while this read is at the database.
            await asyncio.to_thread(profile_cache.forget, [user.pk])
            await profile_cache.akeep(
                store, user_id=claims_user, session_id=claims_session, tag=tag, body=b"{}"
            )
            return await profile_cache.aread(store, user_id=claims_user, session_id=claims_session)
        finally:
            await aio.close_loop_store()

    kept, tag = asyncio.run(raced())

    assert kept is None
    assert tag not in (None, profile_cache.NO_TAG)
    assert kept_bodies() == []


def test_a_tag_outlives_every_body_read_before_it(login):
    user, access = login()
    served(access)
    profile_cache.forget([user.pk])
    client = redis_client()

    [body_key] = kept_bodies()
    tag_ms = client.pttl(profile_cache.generation_key(user.pk))
    assert tag_ms > client.pttl(body_key) + (profile_cache.TAG_MARGIN - 1) * 1000
    assert 0 < client.pttl(body_key) <= profile_cache.ttl() * 1000


@override_settings(REFERRALS_PROFILE_CACHE_TTL=0)
def test_a_ttl_of_zero_keeps_nothing(login):
    user, access = login()
    served(access)
    set_name_behind_the_models(user, "Now")

    assert served(access)[1]["first_name"] == "Now"
    assert kept_bodies() == []


def test_redis_unreachable_reads_the_database(login, settings):
    user, access = login()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # discard port: nothing listens
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }

    status, body = served(access)

    assert status == 200
    assert body["phone"] == str(user.phone_account.phone)


def test_a_sign_in_writes_no_tag(login):
    user, access = login()
    served(access)
    client = redis_client()
    tag = client.get(profile_cache.generation_key(user.pk))

    user.last_login = user.date_joined
    user.save(update_fields=["last_login"])

    assert client.get(profile_cache.generation_key(user.pk)) == tag
    assert len(kept_bodies()) == 1
