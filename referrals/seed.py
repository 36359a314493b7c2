"""Demo data for ``seed_demo``: many users with phones, invite codes, a referral tree and
a consistent points ledger, written fast enough for a million users.

The whole population is planned in memory first (who invited whom, when, every final
balance), then written in batches inside one transaction, so the data is consistent
when it becomes visible, and nothing is left behind when seeding fails. On PostgreSQL
rows go in through ``COPY`` (ids reserved from the tables' sequences); elsewhere through
plain multi-row ``INSERT`` statements. Both bypass model ``save()``, so the timestamps
of the plan (joining, activation) are kept.

The referral tree grows by preferential attachment: each new user activates a code with
probability ``ACTIVATION_SHARE``, choosing an earlier user with a chance proportional to
one plus that user's referrals so far. A few users end up with many referrals, and since
only earlier users can be inviters, there is never a cycle.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import Max
from django.utils import timezone

from phone_auth.models import PhoneAccount
from phone_auth.phones import normalize_phone
from phone_auth.users import new_user_values, unfillable_user_fields
from referrals.conf import app_settings
from referrals.models import PointsEntry, Profile, Referral
from referrals.services import invite_codes_generate

ACTIVATION_SHARE = 0.7
HISTORY = timedelta(days=365)
ACTIVATION_DELAY = timedelta(days=2)
# Russian mobile numbers +7 900 000-00-00 ... +7 929 999-99-99: valid for libphonenumber.
PHONE_FIRST = 79_000_000_000
PHONE_LAST = 79_299_999_999
_DEMO_PHONE = re.compile(r"^\+79[0-2][0-9]{8}$")


class SeedError(Exception):
    """The demo data cannot be created (no free phone numbers, unsupported database)."""


@dataclass(frozen=True)
class Plan:
    """Everything about the new users, by position (0 is the oldest)."""

    phones: list[str]
    codes: list[str]
    joined: list[datetime]
    inviter: list[int]  # position of the inviter, -1 for none; always smaller than the user's
    activated: list[datetime | None]
    points: list[int]

    def __len__(self) -> int:
        return len(self.phones)


def free_phone_start(count: int) -> int:
    """The first of ``count`` consecutive demo numbers above every demo number in use."""
    highest = PhoneAccount.objects.filter(
        phone__gte=f"+{PHONE_FIRST}", phone__lte=f"+{PHONE_LAST}", phone__regex=_DEMO_PHONE.pattern
    ).aggregate(top=Max("phone"))["top"]
    start = int(str(highest).lstrip("+")) + 1 if highest else PHONE_FIRST
    if start + count - 1 > PHONE_LAST:
        raise SeedError(f"Only {max(0, PHONE_LAST - start + 1)} demo phone numbers are left.")
    for number in (start, start + count - 1):
        if normalize_phone(f"+{number}") != f"+{number}":
            raise SeedError(f"+{number} is not a valid phone number.")
    return start


def make_plan(count: int, *, rng: random.Random, now: datetime | None = None) -> Plan:
    """Phones, unique codes, a preferential-attachment referral tree and the balances."""
    now = now or timezone.now()
    start = free_phone_start(count)
    taken = set(Profile.objects.values_list("invite_code", flat=True).iterator(chunk_size=20000))
    invitee_bonus, inviter_bonus = app_settings.INVITEE_BONUS, app_settings.INVITER_BONUS
    first_day = now - HISTORY
    step = HISTORY / max(count, 1)
    joined = [first_day + step * i for i in range(count)]
    inviter = [-1] * count
    activated: list[datetime | None] = [None] * count
    points = [0] * count
    # Each user appears once, plus once per referral: a uniform pick from this list
    # chooses a user with probability proportional to (1 + referrals so far).
    attachment: list[int] = []
    for position in range(count):
        if attachment and rng.random() < ACTIVATION_SHARE:
            chosen = attachment[rng.randrange(len(attachment))]
            inviter[position] = chosen
            latest = min(ACTIVATION_DELAY, now - joined[position])
            activated[position] = joined[position] + latest * rng.random()
            points[position] += invitee_bonus
            points[chosen] += inviter_bonus
            attachment.append(chosen)
        attachment.append(position)
    return Plan(
        phones=[f"+{start + position}" for position in range(count)],
        codes=invite_codes_generate(count, taken=taken),
        joined=joined,
        inviter=inviter,
        activated=activated,
        points=points,
    )


class RowWriter(Protocol):
    """Writes rows (values in the order of ``fields``) into ``model``'s table."""

    def write(
        self, model: type[models.Model], fields: Sequence[models.Field[Any, Any]], rows: list[Any]
    ) -> None:
        """Insert ``rows``."""


def _sql_names(
    model: type[models.Model], fields: Sequence[models.Field[Any, Any]]
) -> tuple[str, str]:
    """The quoted table name and column list of ``fields``."""
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), ", ".join(quote(str(field.column)) for field in fields)


class CopyWriter:
    """PostgreSQL ``COPY ... FROM STDIN``: psycopg adapts the Python values itself."""

    def write(
        self, model: type[models.Model], fields: Sequence[models.Field[Any, Any]], rows: list[Any]
    ) -> None:
        """Stream ``rows`` in one ``COPY``."""
        table, columns = _sql_names(model, fields)
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)


class InsertWriter:
    """Multi-row ``INSERT`` on any database, values prepared by their model fields."""

    def write(
        self, model: type[models.Model], fields: Sequence[models.Field[Any, Any]], rows: list[Any]
    ) -> None:
        """Insert ``rows`` in statements as large as the database accepts."""
        table, columns = _sql_names(model, fields)
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
        # PostgreSQL takes at most 65,535 parameters per statement; SQLite says its own limit.
        limit = min(connection.ops.bulk_batch_size(list(fields), rows), 60000 // len(fields))
        size = max(1, limit)
        prepared = [
            [
                field.get_db_prep_save(value, connection)
                for field, value in zip(fields, row, strict=True)
            ]
            for row in rows
        ]
        with connection.cursor() as cursor:
            for start in range(0, len(prepared), size):
                chunk = prepared[start : start + size]
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) "  # noqa: S608 - names come from the models
                    f"VALUES {', '.join([placeholders] * len(chunk))}",
                    [value for row in chunk for value in row],
                )


def id_reserver(model: type[models.Model]) -> Callable[[int], list[int]]:
    """A function that hands out ``n`` unused primary keys of ``model`` at a time.

    PostgreSQL takes them from the table's sequence (safe next to a running service);
    other databases continue after the highest key, inside the seeding transaction.
    """
    table, column = model._meta.db_table, str(model._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            sequence = cursor.fetchone()[0]
            if sequence is None:
                raise SeedError(f"{table}.{column} has no sequence; use --method insert.")

            def from_sequence(count: int) -> list[int]:
                with connection.cursor() as inner:
                    inner.execute(
                        "SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count]
                    )
                    return [int(row[0]) for row in inner.fetchall()]

            return from_sequence
        cursor.execute(
            f"SELECT MAX({connection.ops.quote_name(column)}) "  # noqa: S608 - names from the model
            f"FROM {connection.ops.quote_name(table)}"
        )
        highest = [int(cursor.fetchone()[0] or 0)]

    def after_highest(count: int) -> list[int]:
        first = highest[0] + 1
        highest[0] += count
        return list(range(first, first + count))

    return after_highest


UserRow = Callable[[int, str, datetime], list[Any]]


def _user_columns() -> tuple[list[models.Field[Any, Any]], UserRow]:
    """The user table's columns and a function building one user's row.

    A user gets what a phone sign-up gives it (``phone_auth.users.new_user_values``: the
    phone as login name, no email), an unusable password and the plan's joining date;
    every other column takes its default. A user model with a unique or required column
    that neither fills is refused with ``SeedError`` before anything is written.
    """
    user_model = get_user_model()
    fields = [field for field in user_model._meta.concrete_fields if not field.primary_key]
    unfillable = unfillable_user_fields() + [
        field.name
        for field in fields
        if not field.null
        and not field.has_default()
        and not field.empty_strings_allowed
        and not getattr(field, "auto_now", False)
        and not getattr(field, "auto_now_add", False)
        and field.name not in new_user_values("+0")
        and field.name != "password"
    ]
    if unfillable:
        raise SeedError(
            f"seed_demo cannot fill {user_model._meta.label}."
            f"{', '.join(sorted(set(unfillable)))} (unique or required, with no default); "
            "create demo users for this user model another way."
        )
    defaults = {field.name: field.get_default() for field in fields}
    joined_fields = [
        field.name
        for field in fields
        if field.name == "date_joined"
        or getattr(field, "auto_now", False)
        or getattr(field, "auto_now_add", False)
    ]
    names = [field.name for field in fields]

    def row(pk: int, phone: str, joined: datetime) -> list[Any]:
        values = dict(defaults)
        values.update(new_user_values(phone))
        values["password"] = "!" + secrets.token_hex(20)
        for name in joined_fields:
            values[name] = joined
        return [pk, *(values[name] for name in names)]

    return [user_model._meta.pk, *fields], row


@contextmanager
def foreign_keys_checked_per_statement() -> Iterator[None]:
    """On PostgreSQL, check the seeded tables' foreign keys after each ``COPY``/``INSERT``.

    Django creates them ``DEFERRABLE INITIALLY DEFERRED``: left so, a million users queue
    millions of checks for the final commit, which is slower and holds them all in
    memory. They are set back to deferred afterwards, as the surrounding transaction
    (a test's, say) expects.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in (PhoneAccount, Profile, Referral, PointsEntry)]
    with connection.cursor() as cursor:
        listed = ", ".join(
            connection.ops.quote_name(name)
            for table in tables
            for name, info in connection.introspection.get_constraints(cursor, table).items()
            if info["foreign_key"]
        )
        cursor.execute(f"SET CONSTRAINTS {listed} IMMEDIATE")
    yield  # a failure aborts the transaction: nothing to set back then
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {listed} DEFERRED")


def _fields(model: type[models.Model], *names: str) -> list[models.Field[Any, Any]]:
    return [model._meta.get_field(name) for name in names]  # type: ignore[misc]


@dataclass(frozen=True)
class SeedResult:
    """What was created."""

    users: int
    referrals: int
    entries: int


def write_plan(
    plan: Plan, *, writer: RowWriter, batch: int, progress: Callable[[int], object]
) -> SeedResult:
    """Write ``plan`` in batches of ``batch`` users; call ``progress`` after each batch.

    Run it inside one transaction: balances are final from the first batch, while the
    ledger entries that explain them arrive with later users.
    """
    user_fields, user_row = _user_columns()
    user_ids = id_reserver(get_user_model())
    referral_ids = id_reserver(Referral)
    account_fields = _fields(PhoneAccount, "user", "phone", "created_at")
    profile_fields = _fields(Profile, "user", "invite_code", "points")
    referral_fields = _fields(Referral, "id", "invitee", "inviter", "invite_code", "created_at")
    entry_fields = _fields(PointsEntry, "user", "amount", "reason", "referral", "created_at")
    invitee_bonus, inviter_bonus = app_settings.INVITEE_BONUS, app_settings.INVITER_BONUS
    pk_of: list[int] = []
    referrals = 0
    for first in range(0, len(plan), batch):
        positions = range(first, min(first + batch, len(plan)))
        pk_of.extend(user_ids(len(positions)))
        writer.write(
            get_user_model(),
            user_fields,
            [user_row(pk_of[i], plan.phones[i], plan.joined[i]) for i in positions],
        )
        writer.write(
            PhoneAccount,
            account_fields,
            [(pk_of[i], plan.phones[i], plan.joined[i]) for i in positions],
        )
        writer.write(
            Profile, profile_fields, [(pk_of[i], plan.codes[i], plan.points[i]) for i in positions]
        )
        invited = [i for i in positions if plan.inviter[i] >= 0]
        ids = referral_ids(len(invited))
        rows = [
            (rid, pk_of[i], pk_of[plan.inviter[i]], plan.codes[plan.inviter[i]], plan.activated[i])
            for rid, i in zip(ids, invited, strict=True)
        ]
        writer.write(Referral, referral_fields, rows)
        writer.write(
            PointsEntry,
            entry_fields,
            [
                entry
                for rid, invitee, inviter, _code, at in rows
                for entry in (
                    (invitee, invitee_bonus, PointsEntry.Reason.REFERRAL_INVITEE.value, rid, at),
                    (inviter, inviter_bonus, PointsEntry.Reason.REFERRAL_INVITER.value, rid, at),
                )
            ],
        )
        referrals += len(rows)
        progress(len(positions))
    return SeedResult(users=len(plan), referrals=referrals, entries=2 * referrals)
