"""Reads of the referral program, each a constant number of queries.

The profile has two readers that give the same body:

- ``profile_for_session`` (PostgreSQL): one statement that checks the login session and
  reads the whole profile (phone, invite codes, inviter, referral count, the newest
  referral phones) as plain values, with no model objects. ``GET /profile/`` uses it.
- ``profile_view`` (any database): the ORM in two queries, for the answers that follow
  a write and for SQLite, the embedded default.

Referrals whose invitee was deleted stay in the database (the ledger points at them) but
are no one's referral any more: every list and count here skips them. The name and email
fields are the user model's own: a host model without ``first_name`` shows none, and an
email that only stands in for none (``phone_auth.users.shown_email``) shows as ``""``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import CharField, Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Cast, Coalesce
from rest_framework.fields import DateTimeField

from phone_auth.models import LoginSession, PhoneAccount
from phone_auth.typing import AuthUser
from phone_auth.users import EDITABLE_USER_FIELDS, model_field, shown_email, user_field
from referrals.conf import app_settings
from referrals.models import PointsEntry, Profile, Referral

if TYPE_CHECKING:
    from phone_auth.aio import LoopStore

CONTACT_FIELDS = EDITABLE_USER_FIELDS  # the name and email fields a profile shows
# DRF's own formatting of a timestamp (ISO 8601, ``Z`` for UTC), as every other answer has.
_DATETIME = DateTimeField()


@dataclass(frozen=True)
class ProfileView:
    """Everything ``GET /profile/`` shows."""

    id: int
    phone: str | None
    invite_code: str | None
    activated_invite_code: str | None
    inviter_phone: str | None
    referrals: list[str]
    referrals_count: int
    points: int
    first_name: str
    last_name: str
    email: str
    date_joined: datetime | None


@dataclass(frozen=True)
class PointsMismatch:
    """A user whose cached balance is not the sum of their ledger."""

    user_id: int
    phone: str | None
    stored: int
    ledger: int


@cache
def _contact_fields(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(name for name in CONTACT_FIELDS if model_field(model, name))


def contact_fields() -> tuple[str, ...]:
    """The name and email fields the user model has (the profile shows only those)."""
    return _contact_fields(get_user_model())


def phone_of(user: Any) -> str | None:
    """The E.164 phone of ``user`` (``None`` for a user without a phone or no user)."""
    account = getattr(user, "phone_account", None) if user is not None else None
    return str(account.phone) if account is not None else None


def ledger_entry_phone(entry: PointsEntry) -> str | None:
    """The other side of a ledger entry's referral: who I invited, or who invited me."""
    if entry.referral is None:
        return None
    if entry.reason == PointsEntry.Reason.REFERRAL_INVITER:
        return phone_of(entry.referral.invitee)
    return phone_of(entry.referral.inviter)


def profile_view(*, user: AuthUser) -> ProfileView:
    """The caller's profile (two queries)."""
    loaded = (
        get_user_model()
        .objects.select_related(
            "phone_account",
            "referral_profile",
            "referral_received__inviter__phone_account",
        )
        # The count rides along in the same query: one round trip fewer per profile read.
        .annotate(
            living_referrals=Coalesce(
                Subquery(
                    Referral.objects.filter(inviter=OuterRef("pk"), invitee__isnull=False)
                    .order_by()
                    .values("inviter")
                    .annotate(total=Count("id"))
                    .values("total")[:1]
                ),
                0,
            )
        )
        .get(pk=user.pk)
    )
    profile: Profile | None = getattr(loaded, "referral_profile", None)
    referral: Referral | None = getattr(loaded, "referral_received", None)
    phones = referral_phones(user=loaded)[: app_settings.PROFILE_REFERRALS_LIMIT]
    return ProfileView(
        id=int(loaded.pk),
        phone=phone_of(loaded),
        invite_code=profile.invite_code if profile else None,
        activated_invite_code=referral.invite_code if referral else None,
        inviter_phone=phone_of(referral.inviter) if referral else None,
        referrals=[str(phone) for phone in phones if phone],
        referrals_count=int(loaded.living_referrals),
        points=profile.points if profile else 0,
        first_name=getattr(loaded, "first_name", ""),
        last_name=getattr(loaded, "last_name", ""),
        email=shown_email(getattr(loaded, "email", "")),
        date_joined=getattr(loaded, "date_joined", None),
    )


@cache
def _session_statement(model: type[models.Model]) -> str | None:
    """The one statement of ``profile_for_session`` for this user model.

    ``None`` when the model's ``is_active`` is not a column (a property, say): then only
    the ORM reader can tell whether the user may sign in.
    """
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        field = model_field(model, name)
        return f"u.{quote(str(field.column))}" if field else ""

    meta = model._meta
    active = column("is_active")
    if not active and getattr(model, "is_active", True) is not True:
        return None
    columns = [column(name) for name in _contact_fields(model)]
    columns.append(column("date_joined") or "NULL")
    pk = f"u.{quote(str(meta.pk.column if meta.pk else 'id'))}"
    phones = quote(PhoneAccount._meta.db_table)
    referrals = quote(Referral._meta.db_table)
    # Referral phones come newest first along the index referral_inviter_newest; a
    # referral whose invitee has no phone keeps its place in the cap and shows no phone.
    return f"""
        SELECT {pk}, pa.phone, p.invite_code, p.points, r.invite_code, ipa.phone,
            (SELECT count(*) FROM {referrals} c
                WHERE c.inviter_id = {pk} AND c.invitee_id IS NOT NULL),
            ARRAY(SELECT rpa.phone FROM {referrals} m
                LEFT JOIN {phones} rpa ON rpa.user_id = m.invitee_id
                WHERE m.inviter_id = {pk} AND m.invitee_id IS NOT NULL
                ORDER BY m.created_at DESC, m.id DESC LIMIT %(limit)s),
            {", ".join(columns)}
        FROM {quote(LoginSession._meta.db_table)} s
        JOIN {quote(str(meta.db_table))} u ON {pk} = s.user_id
        LEFT JOIN {phones} pa ON pa.user_id = {pk}
        LEFT JOIN {quote(Profile._meta.db_table)} p ON p.user_id = {pk}
        LEFT JOIN {referrals} r ON r.invitee_id = {pk}
        LEFT JOIN {phones} ipa ON ipa.user_id = r.inviter_id
        WHERE s.id = %(session)s AND s.revoked_at IS NULL
            {f"AND {active}" if active else ""}
    """  # noqa: S608 - only names from the models' metadata, every value is a parameter


def _fetch_one_bound(statement: str, params: dict[str, object]) -> tuple[Any, ...] | None:
    """One row of ``statement`` with its parameters bound by the server (PostgreSQL).

    Django's cursors bind on the client, which rules out prepared statements; this cursor
    lets psycopg prepare a statement it has run ``prepare_threshold`` times on a pooled
    connection (the database option; Django leaves it off for the sake of poolers such
    as PgBouncer in transaction mode), which saves PostgreSQL planning the statement on
    every read. It still goes through Django's wrappers: errors, query logging and
    counting work as for any query.
    """
    import psycopg

    pool: Any = getattr(connection, "pool", None)
    if pool is not None and connection.connection is None and not connection.in_atomic_block:
        # Nothing open on this thread (the first query of a request): borrow a pooled
        # connection for the one statement instead of opening Django's per-thread
        # connection only to close it when the request ends.
        pool.open()  # as Django does on its first connection; nothing once it is open
        with (
            connection.wrap_database_errors,
            pool.connection() as borrowed,
            psycopg.Cursor(borrowed) as bound,
        ):
            bound.execute(statement, params)
            fetched: tuple[Any, ...] | None = bound.fetchone()
        return fetched
    connection.ensure_connection()
    raw: Any = psycopg.Cursor(connection.connection)
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(raw) as cursor:
        cursor.execute(statement, params)  # type: ignore[arg-type]
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row


def profile_for_session(*, session_id: uuid.UUID, user_id: object) -> ProfileView | None:
    """The profile of the user of an open login session, in one statement (PostgreSQL).

    ``None`` unless the session is open, belongs to ``user_id`` and its user is active,
    and on databases other than PostgreSQL: the caller then takes the full way
    (authentication, then ``profile_view``), which gives the right answer or error.
    """
    if connection.vendor != "postgresql":
        return None
    statement = _session_statement(get_user_model())
    if statement is None:
        return None
    row = _fetch_one_bound(statement, _session_params(session_id))
    return _session_profile(row, user_id)


async def aprofile_for_session(
    store: LoopStore, *, session_id: uuid.UUID, user_id: object
) -> ProfileView | None:
    """``profile_for_session`` on the event loop, through ``store``'s async pool."""
    statement = _session_statement(get_user_model())
    if statement is None:
        return None
    row = await store.fetch_one(statement, _session_params(session_id))
    return _session_profile(row, user_id)


def _session_params(session_id: uuid.UUID) -> dict[str, object]:
    return {"session": session_id, "limit": app_settings.PROFILE_REFERRALS_LIMIT}


def _session_profile(row: tuple[Any, ...] | None, user_id: object) -> ProfileView | None:
    """The ``ProfileView`` of a row of the session statement, if it is ``user_id``'s."""
    if row is None or str(row[0]) != str(user_id):
        return None
    pk, phone, own_code, points, activated, inviter_phone, count, phones, *rest = row
    contact = dict(zip(_contact_fields(get_user_model()), rest, strict=False))
    return ProfileView(
        id=int(pk),
        phone=phone,
        invite_code=own_code,
        activated_invite_code=activated,
        inviter_phone=inviter_phone,
        referrals=[phone for phone in phones if phone],
        referrals_count=int(count),
        points=int(points or 0),
        first_name=contact.get("first_name", ""),
        last_name=contact.get("last_name", ""),
        email=shown_email(contact.get("email")),
        date_joined=rest[-1],
    )


def profile_body(view: ProfileView, *, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The JSON body of a profile, in the contract's order.

    Of the name and email fields only ``fields`` appear (default: those the user model has);
    ``date_joined`` appears when the user model has it.
    """
    body: dict[str, Any] = {
        "id": view.id,
        "phone": view.phone,
        "invite_code": view.invite_code,
        "activated_invite_code": view.activated_invite_code,
        "inviter_phone": view.inviter_phone,
        "referrals": view.referrals,
        "referrals_count": view.referrals_count,
        "points": view.points,
    }
    for name in contact_fields() if fields is None else fields:
        body[name] = getattr(view, name)
    if user_field("date_joined") is not None:
        body["date_joined"] = (
            _DATETIME.to_representation(view.date_joined) if view.date_joined else None
        )
    return body


def referrals_of(*, user: AuthUser) -> QuerySet[Referral]:
    """The referrals ``user`` made whose invitee still exists."""
    return Referral.objects.filter(inviter=user, invitee__isnull=False)


def referral_phones(*, user: AuthUser) -> QuerySet[Referral, Any]:
    """Phones of the users who activated ``user``'s code, newest first."""
    return (
        referrals_of(user=user)
        .order_by("-created_at", "-id")
        # Read the stored E.164 text as is: building a phone-number object per row only
        # to print it again is most of the cost of a long list.
        .annotate(phone_text=Cast("invitee__phone_account__phone", output_field=CharField()))
        .values_list("phone_text", flat=True)
    )


def referrals_list(*, user: AuthUser) -> QuerySet[Referral]:
    """Referrals of ``user`` with the invitee's phone, for cursor paging."""
    return referrals_of(user=user).select_related("invitee__phone_account")


def points_ledger(*, user: AuthUser) -> QuerySet[PointsEntry]:
    """The user's ledger with the phone of the other side of each referral."""
    return PointsEntry.objects.filter(user=user).select_related(
        "referral__invitee__phone_account", "referral__inviter__phone_account"
    )


def points_sum(*, user_id: int) -> int:
    """The ledger's sum (what ``Profile.points`` must always equal)."""
    total = PointsEntry.objects.filter(user_id=user_id).aggregate(total=Sum("amount"))["total"]
    return int(total or 0)


def points_mismatches() -> Iterator[PointsMismatch]:
    """Every user whose cached balance differs from their ledger's sum (one query).

    A user without a referral profile has a cached balance of ``0``.
    """
    rows = (
        get_user_model()
        .objects.annotate(
            stored=Coalesce(F("referral_profile__points"), 0),
            ledger=Coalesce(Sum("points_entries__amount"), 0),
        )
        .exclude(stored=F("ledger"))
        .order_by("pk")
        .values_list("pk", "phone_account__phone", "stored", "ledger")
    )
    for pk, phone, stored, ledger in rows.iterator(chunk_size=2000):
        yield PointsMismatch(
            user_id=int(pk),
            phone=str(phone) if phone else None,
            stored=int(stored),
            ledger=int(ledger),
        )


def staff_users() -> QuerySet[Any]:
    """Users with phone, profile and the number of their (living) referrals."""
    return (
        get_user_model()
        .objects.select_related("phone_account", "referral_profile")
        .annotate(
            referrals_count=Count("referrals_made", filter=Q(referrals_made__invitee__isnull=False))
        )
        .order_by("id")
    )


def staff_users_search(*, search: str) -> QuerySet[Any]:
    """``staff_users`` whose phone contains what was typed (its digits, if it has any)."""
    queryset = staff_users()
    # PostgreSQL text cannot hold NUL, and no phone contains one.
    text = search.replace("\x00", "").strip()
    if not text:
        return queryset
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    return queryset.filter(phone_account__phone__contains=digits or text)
