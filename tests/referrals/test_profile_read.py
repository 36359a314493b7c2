"""``GET /profile/``: one statement that checks the login and reads the whole profile,
the same body byte for byte as the ORM reader, and every refusal of the token kept."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import jwt
import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, connections, models
from django.test.utils import isolate_apps
from rest_framework.renderers import JSONRenderer

from phone_auth import tokens
from phone_auth.models import PhoneAccount
from phone_auth.tokens import access_claims, session_start, sessions_logout_all
from referrals.api import ProfileOutputSerializer
from referrals.selectors import (
    ProfileView,
    _contact_fields,
    _session_statement,
    profile_body,
    profile_for_session,
    profile_view,
)
from referrals.services import invite_activate
from tests.referrals.support import code_of
from tests.referrals.test_profile import PROFILE, invite_many

pytestmark = pytest.mark.django_db


def orm_body(user) -> bytes:
    """What the ORM reader answers for ``user``, rendered as the API renders it."""
    return JSONRenderer().render(ProfileOutputSerializer(profile_view(user=user)).data)


@pytest.mark.parametrize("count", [0, 150])
def test_profile_read_is_one_statement_with_authentication(
    make_user, client_for, django_assert_num_queries, count
):
    inviter, grand_inviter = make_user(), make_user()
    invite_activate(user=inviter, code=code_of(grand_inviter))
    invite_many(inviter, make_user, count)
    client = client_for(inviter)

    with django_assert_num_queries(1):
        body = client.get(PROFILE).json()

    assert body["referrals_count"] == count
    assert len(body["referrals"]) == min(count, 100)
    assert body["inviter_phone"] == str(grand_inviter.phone_account.phone)


def test_both_readers_give_the_same_bytes(make_user, client_for):
    grand, user = make_user(), make_user(first_name="Анна", last_name="Li", email="a@example.com")
    invite_activate(user=user, code=code_of(grand))
    invite_many(user, make_user, 4)
    gone, phoneless = make_user(), make_user()
    for invitee in (gone, phoneless):
        invite_activate(user=invitee, code=code_of(user))
    gone.delete()  # no one's referral any more
    PhoneAccount.objects.filter(user=phoneless).delete()  # counted, shown without a phone
    client = client_for(user)

    for joined in (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime.now(UTC)):
        type(user).objects.filter(pk=user.pk).update(date_joined=joined)
        user.refresh_from_db()
        response = client.get(PROFILE)

        assert response.status_code == 200
        assert response.content == orm_body(user)
        assert response["Cache-Control"] == "no-store"
        assert response["Allow"] == client.options(PROFILE)["Allow"]  # as DRF answers
    body = response.json()
    assert (body["referrals_count"], len(body["referrals"]), body["points"]) == (5, 4, 1300)


def test_a_user_without_profile_or_phone_reads_like_the_orm(make_user, client_for):
    user = make_user()
    PhoneAccount.objects.filter(user=user).delete()
    user.referral_profile.delete()

    response = client_for(user).get(PROFILE)

    assert response.status_code == 200
    assert response.content == orm_body(user)
    assert (response.json()["phone"], response.json()["invite_code"]) == (None, None)


def test_an_activation_by_someone_else_shows_at_once(make_user, client_for):
    inviter = make_user()
    client = client_for(inviter)
    assert client.get(PROFILE).json()["referrals_count"] == 0

    invitee = make_user()
    invite_activate(user=invitee, code=code_of(inviter))

    body = client.get(PROFILE).json()
    assert (body["referrals"], body["referrals_count"], body["points"]) == (
        [str(invitee.phone_account.phone)],
        1,
        200,
    )


def test_a_closed_login_stops_the_read_at_once(make_user, client_for):
    user = make_user()
    client = client_for(user)
    assert client.get(PROFILE).status_code == 200

    sessions_logout_all(user=user)

    response = client.get(PROFILE)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def _signed(claims: dict[str, object]) -> str:
    return tokens.token_backend().encode(claims)


@pytest.mark.parametrize("change", ["refresh_token", "no_exp", "no_jti", "other_users_login"])
def test_the_read_refuses_what_authentication_refuses(make_user, api_client, change):
    user, other = make_user(), make_user()
    pair = session_start(user=user)
    access = dict(jwt.decode(pair.access, options={"verify_signature": False}))
    token = {
        "refresh_token": pair.refresh,
        "no_exp": _signed({k: v for k, v in access.items() if k != "exp"}),
        "no_jti": _signed({k: v for k, v in access.items() if k != "jti"}),
        "other_users_login": _signed({**access, "user_id": other.pk}),
    }[change]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = api_client.get(PROFILE)

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_an_inactive_user_is_refused(make_user, client_for):
    user = make_user()
    client = client_for(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)

    assert client.get(PROFILE).status_code == 401


@isolate_apps("referrals")
def test_the_profile_shows_only_the_contact_fields_the_user_model_has():
    class HostUser(AbstractBaseUser):
        email = models.EmailField(blank=True)

        class Meta:
            app_label = "referrals"

    statement = _session_statement(HostUser)
    view = ProfileView(
        id=1,
        phone="+79110000001",
        invite_code="7HJ2QK",
        activated_invite_code=None,
        inviter_phone=None,
        referrals=[],
        referrals_count=0,
        points=0,
        first_name="",
        last_name="",
        email="a@example.com",
        date_joined=None,
    )

    assert _contact_fields(HostUser) == ("email",)
    assert statement is not None
    assert "first_name" not in statement
    assert "last_name" not in statement
    assert "date_joined" not in statement
    assert '"email"' in statement
    body = profile_body(view, fields=_contact_fields(HostUser))
    assert list(body)[-2:] == ["email", "date_joined"]
    assert "first_name" not in body
    assert "last_name" not in body


def test_the_read_is_prepared_once_per_connection(make_user, client_for):
    user = make_user()
    client = client_for(user)

    for _ in range(12):
        assert client.get(PROFILE).status_code == 200

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%phone_auth_loginsession%"],
        )
        (prepared,) = cursor.fetchone()
    assert prepared == 1


def _in_a_fresh_thread(function, **kwargs):
    """What ``function`` returns on a thread that has no database connection yet."""
    results = []
    thread = threading.Thread(target=lambda: results.append(function(**kwargs)))
    thread.start()
    thread.join(timeout=30)
    connections.close_all()
    return results[0]


@pytest.mark.django_db(transaction=True)
def test_a_request_thread_borrows_a_pooled_connection_and_reads_the_same(make_user):
    grand, user = make_user(), make_user(first_name="Ivan")
    invite_activate(user=user, code=code_of(grand))
    invite_many(user, make_user, 3)
    access = session_start(user=user).access
    claims = access_claims(access)

    view = _in_a_fresh_thread(
        profile_for_session, session_id=claims.session_id, user_id=claims.user_id
    )

    assert view == profile_view(user=user)
    sessions_logout_all(user=user)
    closed = _in_a_fresh_thread(
        profile_for_session, session_id=claims.session_id, user_id=claims.user_id
    )
    assert closed is None


def test_a_token_verified_under_one_key_is_refused_under_another(make_user, client_for, settings):
    client = client_for(make_user())
    assert client.get(PROFILE).status_code == 200

    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "another-key-" + "x" * 40}

    response = client.get(PROFILE)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
