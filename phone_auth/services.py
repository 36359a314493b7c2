"""Sign-in rules: sending codes, checking them, creating users, and the budgets around them.

Every check-then-write is a conditional ``UPDATE``, a row lock, a database constraint or one
atomic cache step, so parallel requests cannot use a code twice, guess past a limit, or
create a user twice.

Budgets are built so that no client can spend what protects someone else:

- A send reserves its budgets in one atomic step that counts nothing when any is spent, and
  gives them back when the SMS did not go out. The cooldown and the tightest budgets are per
  client *and* phone, so another client's sends never keep a phone's owner from a code.
- A wrong code counts against the client (per hour, across phones), against the client and
  phone (per day) and against the phone (per day, across clients); the client-and-phone
  budget is below the phone's, so one client cannot spend a phone's budget alone.
- A code's own attempt limit belongs to the client that asked for it: wrong entries from
  any other client are counted per client and never burn it, so nobody can burn the code the
  owner is about to type.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from asgiref.sync import SyncToAsync, sync_to_async
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from phone_auth import aio, ratelimit, signals, tokens
from phone_auth.adapter import get_adapter
from phone_auth.conf import LOOPBACK, app_settings
from phone_auth.errors import (
    AccountDisabledError,
    InvalidCodeError,
    NoActiveCodeError,
    RateLimitedError,
    ServiceUnavailableError,
    SmsUnavailableError,
    TooManyAttemptsError,
    is_outage,
)
from phone_auth.models import PhoneAccount, SignInCode
from phone_auth.phones import phone_region
from phone_auth.sms import SmsMessage, SmsSendError, get_backend
from phone_auth.threads import IdleEndingThreadPool
from phone_auth.typing import AuthUser

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Threads that run the sign-in's database and cache work for async views, per process
#: (started on demand, ended when idle).
SYNC_THREADS = 16
_executor = IdleEndingThreadPool(max_workers=SYNC_THREADS, thread_name_prefix="phone-auth")


@dataclass(frozen=True)
class SentCode:
    """The outcome of a send: what the client is told (and, in demo mode, the code)."""

    phone: str
    code: str
    expires_in: int
    retry_after: int
    code_length: int


@dataclass(frozen=True)
class PendingCode:
    """A stored code whose SMS is not out yet, and the budgets it reserved."""

    id: int
    phone: str
    reservation: ratelimit.Reservation


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: the user, whether it was created now, and the login's tokens."""

    user: AuthUser
    is_new_user: bool
    tokens: tokens.TokenPair


async def run_sync(func: Callable[..., T], /, **kwargs: Any) -> T:
    """Run sync ``func`` off the event loop without holding a thread per request.

    Under the ASGI server each request has its own thread-sensitive context, so a
    thread-sensitive call starts a thread for that request that lives until the request
    ends: for a send, through the whole SMS wait. The sign-in's work opens and releases its
    own connection, so it runs on a small shared pool instead. Under a synchronous caller
    (tests, the test client) it runs on that caller's thread, inside its transaction.
    """
    if SyncToAsync.thread_sensitive_context.get(None) is None:
        return await sync_to_async(func)(**kwargs)
    return await sync_to_async(func, thread_sensitive=False, executor=_executor)(**kwargs)


def release_connection() -> None:
    """Give the connection back (to the pool) before a long wait; never inside a transaction."""
    if not connection.in_atomic_block:
        connection.close()


def code_hash(*, phone: str, code: str) -> str:
    """Keyed hash of a code, bound to its phone; the only form a code is stored in."""
    key = app_settings.CODE_HMAC_KEY.encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def code_generate(length: int | None = None) -> str:
    """A uniformly random numeric code from ``secrets``."""
    length = length or app_settings.CODE_LENGTH
    return "".join(secrets.choice("0123456789") for _ in range(length))


def cooldown_key(phone: str, client: str) -> str:
    """The resend cooldown's key for ``phone`` asked by ``client``."""
    return f"send:{client}:{phone}"


def code_visible_to(*, peer: str, ip: str) -> bool:
    """Whether demo mode hands the code to this client (``peer``: the socket's address).

    ``loopback`` (the local-development default) needs both the socket peer and the client
    address to be loopback, so a forwarded header cannot claim it.
    """
    mode = app_settings.EXPOSE_CODES
    if mode == LOOPBACK:
        return ratelimit.is_loopback(peer) and ratelimit.is_loopback(ip)
    return bool(mode)


def send_budgets(*, phone: str, client: str) -> list[ratelimit.Budget]:
    """The budgets a send counts against (see ``PHONE_AUTH_SEND_LIMITS``)."""
    keyed = {
        "phone_hour": f"send:client-phone:{client}:{phone}",
        "phone_day": f"send:client-phone:{client}:{phone}",
        "ip_hour": f"send:client:{client}",
        "phone_all_day": f"send:phone:{phone}",
        "global_hour": "send:all",
    }
    budgets = [
        ratelimit.Budget(key=keyed.get(name, f"send:{name}"), limit=limit, window=window, name=name)
        for name, (limit, window) in app_settings.SEND_LIMITS.items()
    ]
    region_limits = app_settings.REGION_SEND_LIMITS
    if region_limits:
        region = phone_region(phone)
        if region in region_limits:
            budgets.append(
                ratelimit.Budget(
                    key=f"send:region:{region}",
                    limit=region_limits[region],
                    window=3600,
                    name="region_hour",
                )
            )
    return budgets


def _outage(exc: BaseException) -> ServiceUnavailableError:
    logger.warning("Sign-in backing service unavailable: %s", exc)
    return ServiceUnavailableError()


@contextmanager
def _send_refusals() -> Iterator[None]:
    """A spent budget is ``429 rate_limited``; an unreachable database or cache a ``503``."""
    try:
        yield
    except ratelimit.BudgetSpent as spent:
        raise RateLimitedError(spent.wait) from None
    except Exception as exc:
        if is_outage(exc):
            raise _outage(exc) from exc
        raise


def _send_reservation(*, phone: str, client: str) -> tuple[list[ratelimit.Budget], tuple[str, int]]:
    """What a send reserves: its budgets (none with rate limits off) and its cooldown."""
    budgets = send_budgets(phone=phone, client=client) if app_settings.RATE_LIMITS else []
    return budgets, (cooldown_key(phone, client), app_settings.RESEND_COOLDOWN)


def code_store(*, phone: str, client: str, code: str) -> PendingCode:
    """Claim the cooldown and budgets, then store ``code`` as pending (not valid yet).

    Nothing is counted when a limit refuses; nothing stays counted when the write fails.
    The database connection is released before returning: the caller then waits on the
    SMS provider without holding one.
    """
    try:
        budgets, cooldown = _send_reservation(phone=phone, client=client)
        with _send_refusals():
            reservation = ratelimit.reserve(budgets, cooldown=cooldown)
        try:
            with _send_refusals(), connection.cursor() as cursor:
                cursor.execute(*_pending_insert(phone=phone, client=client, code=code))
                row = cursor.fetchone()
        except BaseException:
            _refund(reservation)
            raise
        return PendingCode(id=int(row[0]), phone=phone, reservation=reservation)
    finally:
        release_connection()


def _pending_insert(*, phone: str, client: str, code: str) -> tuple[str, list[Any]]:
    """One ``INSERT ... RETURNING id`` storing ``code`` (hashed) as pending, for ``connection``.

    Written out because the ORM's ``create`` costs about three times the CPU (it parses the
    phone again, among other things), and every send of the process pays it.
    """
    ops = connection.ops
    values = _pending_values(phone=phone, client=client, code=code)
    values[4:] = [ops.adapt_datetimefield_value(value) for value in values[4:]]
    return _insert_sql(ops.quote_name(SignInCode._meta.db_table)), values


def _insert_sql(table: str) -> str:
    return (
        f"INSERT INTO {table} "  # noqa: S608 - the table name is ours, values are parameters
        "(phone, client, status, code_hash, attempts, created_at, expires_at) "
        "VALUES (%s, %s, %s, %s, 0, %s, %s) RETURNING id"
    )


def _pending_values(*, phone: str, client: str, code: str) -> list[Any]:
    """The pending code's row: phone, client, status, hash, then created and expiry times."""
    now = timezone.now()
    return [
        phone,
        client,
        SignInCode.Status.PENDING.value,
        code_hash(phone=phone, code=code),
        now,
        now + timedelta(seconds=app_settings.CODE_TTL),
    ]


#: The code table as PostgreSQL's ``quote_name`` writes it, for the event loop's statements:
#: Django's ``connection`` there is a new wrapper object in every request's context.
_PG_CODE_TABLE = f'"{SignInCode._meta.db_table}"'
#: The event loop's pending-code insert (PostgreSQL takes the datetimes as they are).
_LOOP_INSERT_SQL = _insert_sql(_PG_CODE_TABLE)
_LOOP_ABANDON_SQL = (
    f"UPDATE {_PG_CODE_TABLE} SET status = %s "  # noqa: S608 - our table, values are parameters
    "WHERE id = %s AND status = %s"
)


def _refund(reservation: ratelimit.Reservation) -> None:
    try:
        ratelimit.refund(reservation)
    except Exception:
        logger.exception("Could not give back the budgets of a send that did not happen")


#: PostgreSQL: lock the phone, supersede its active code, activate the sent one (migration 0002).
ACTIVATE_SQL = "SELECT phone_auth_activate_code(%s, %s)"


def code_activate(*, pending: PendingCode) -> None:
    """The sender accepted the SMS: the code becomes the phone's one active code.

    Locking the phone's active and pending codes serializes its activations: each pending
    code is committed before its activation locks, so of two activations at least one locks
    the other's code and waits. Without it, both could supersede the old code and then
    collide on "one active code per phone". On PostgreSQL the three steps are one function
    call (see migration 0002): one round trip instead of five.
    """
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(ACTIVATE_SQL, [pending.id, pending.phone])
            return
        with transaction.atomic():
            list(
                SignInCode.objects.select_for_update()
                .filter(
                    phone=pending.phone,
                    status__in=[SignInCode.Status.ACTIVE, SignInCode.Status.PENDING],
                )
                .values_list("pk", flat=True)
            )
            SignInCode.objects.filter(phone=pending.phone, status=SignInCode.Status.ACTIVE).update(
                status=SignInCode.Status.SUPERSEDED
            )
            SignInCode.objects.filter(pk=pending.id, status=SignInCode.Status.PENDING).update(
                status=SignInCode.Status.ACTIVE
            )
    finally:
        release_connection()


def code_abandon(*, pending: PendingCode) -> None:
    """The SMS did not go out: the code is void, the budgets and the cooldown given back."""
    _refund(pending.reservation)
    try:
        SignInCode.objects.filter(pk=pending.id, status=SignInCode.Status.PENDING).update(
            status=SignInCode.Status.FAILED
        )
    except Exception:
        # A pending code is never valid, so the row may stay as it is.
        logger.warning("Could not mark an unsent code as failed", exc_info=True)
    finally:
        release_connection()


def sms_text(code: str) -> str:
    """The message text (in the request's language)."""
    return _("Your sign-in code: %(code)s. Do not share it with anyone.") % {"code": code}


class _ThreadSteps:
    """A send's storage steps through Django's ORM and cache, on the sign-in's threads."""

    async def store(self, *, phone: str, client: str, code: str) -> PendingCode:
        return await run_sync(code_store, phone=phone, client=client, code=code)

    async def activate(self, pending: PendingCode) -> None:
        await run_sync(code_activate, pending=pending)

    async def abandon(self, pending: PendingCode) -> None:
        await run_sync(code_abandon, pending=pending)


@dataclass(frozen=True)
class _LoopSteps:
    """The same steps on the event loop (``phone_auth.aio``): no thread, no Django wrapper."""

    loop_store: aio.LoopStore

    async def store(self, *, phone: str, client: str, code: str) -> PendingCode:
        budgets, cooldown = _send_reservation(phone=phone, client=client)
        with _send_refusals():
            reservation = await ratelimit.areserve(self.loop_store, budgets, cooldown=cooldown)
        try:
            with _send_refusals():
                row = await self.loop_store.fetch_one(
                    _LOOP_INSERT_SQL, _pending_values(phone=phone, client=client, code=code)
                )
        except BaseException:
            await self._refund(reservation)
            raise
        assert row is not None  # RETURNING id
        return PendingCode(id=int(row[0]), phone=phone, reservation=reservation)

    async def activate(self, pending: PendingCode) -> None:
        await self.loop_store.fetch_one(ACTIVATE_SQL, [pending.id, pending.phone])

    async def abandon(self, pending: PendingCode) -> None:
        await self._refund(pending.reservation)
        try:
            await self.loop_store.execute(
                _LOOP_ABANDON_SQL,
                [SignInCode.Status.FAILED.value, pending.id, SignInCode.Status.PENDING.value],
            )
        except Exception:
            # A pending code is never valid, so the row may stay as it is.
            logger.warning("Could not mark an unsent code as failed", exc_info=True)

    async def _refund(self, reservation: ratelimit.Reservation) -> None:
        try:
            await ratelimit.arefund(self.loop_store, reservation)
        except Exception:
            logger.exception("Could not give back the budgets of a send that did not happen")


def _send_steps() -> _ThreadSteps | _LoopSteps:
    loop_store = aio.loop_store()
    return _ThreadSteps() if loop_store is None else _LoopSteps(loop_store)


async def _finish(step: Callable[[PendingCode], Awaitable[None]], pending: PendingCode) -> None:
    """Run ``step`` to its end even if the request is cancelled meanwhile."""
    await asyncio.shield(asyncio.ensure_future(step(pending)))


async def code_send(*, phone: str, ip: str) -> SentCode:
    """Store a pending code, hand it to the SMS sender, then make it the active code.

    The provider is awaited on the event loop. If the request is cancelled (the client went
    away, the worker stops) or anything fails before the sender accepted the SMS, the code
    is void and the phone free to ask again at once; once accepted, the code is activated
    even if the request is cancelled. The answer does not depend on whether the phone has
    an account: no user is read here.
    """
    client = ratelimit.client_key(ip)
    code = code_generate()
    steps = _send_steps()
    storing = asyncio.ensure_future(steps.store(phone=phone, client=client, code=code))
    try:
        pending = await asyncio.shield(storing)
    except asyncio.CancelledError:
        stored = await asyncio.shield(_stored_or_none(storing))
        if stored is not None:
            await _finish(steps.abandon, stored)
        raise
    try:
        await get_backend().send(SmsMessage(phone=phone, text=sms_text(code)))
    except asyncio.CancelledError:
        await _finish(steps.abandon, pending)
        raise
    except Exception as exc:
        # Whatever the sender raised, the person gets the contract's answer and may try again.
        if isinstance(exc, SmsSendError):
            # A provider may quote the message it refused: the code never reaches the log.
            logger.warning("SMS sender failed: %s", str(exc).replace(code, "*" * len(code)))
        else:
            logger.exception("SMS sender crashed")
        await _finish(steps.abandon, pending)
        raise SmsUnavailableError() from exc
    try:
        await _finish(steps.activate, pending)
    except Exception as exc:
        await _finish(steps.abandon, pending)
        if is_outage(exc):
            raise _outage(exc) from exc
        raise
    await signals.code_sent.asend(sender=__name__, phone=phone)
    return SentCode(
        phone=phone,
        code=code,
        expires_in=app_settings.CODE_TTL,
        retry_after=app_settings.RESEND_COOLDOWN,
        code_length=len(code),
    )


async def _stored_or_none(storing: asyncio.Future[PendingCode]) -> PendingCode | None:
    try:
        return await storing
    except Exception:
        return None


# --- Checking codes ----------------------------------------------------------------------


def _wait_of(phone: str, client: str) -> float:
    """Seconds until ``client`` may ask ``phone`` a new code (``0`` when the cache is down)."""
    try:
        return ratelimit.cooldown_left(cooldown_key(phone, client))
    except Exception as exc:
        if is_outage(exc):
            return 0.0
        raise


def _burned(phone: str, client: str) -> TooManyAttemptsError:
    """The code is spent: the person may try again with a new code once the cooldown ends."""
    return TooManyAttemptsError(_wait_of(phone, client))


def guess_budgets(*, phone: str, client: str, code: SignInCode) -> list[ratelimit.Budget]:
    """The wrong-code budgets an entry reserves (see ``PHONE_AUTH_VERIFY_LIMITS``).

    A client other than the one that asked for the code also gets its own attempt limit
    on that code.
    """
    keyed = {
        "ip_hour": f"guess:client:{client}",
        "phone_day": f"guess:phone:{phone}",
        "ip_phone_day": f"guess:client-phone:{client}:{phone}",
    }
    budgets = (
        [
            ratelimit.Budget(
                key=keyed.get(name, f"guess:{name}"), limit=limit, window=window, name=name
            )
            for name, (limit, window) in app_settings.VERIFY_LIMITS.items()
        ]
        if app_settings.RATE_LIMITS
        else []
    )
    if code.client != client:
        budgets.append(
            ratelimit.Budget(
                key=f"guess:code:{code.pk}:{client}",
                limit=app_settings.CODE_MAX_ATTEMPTS,
                window=max(1, app_settings.CODE_TTL),
                name="code",
                slotted=False,
            )
        )
    return budgets


def _reserve_guess(*, phone: str, client: str, code: SignInCode) -> ratelimit.Reservation:
    """Reserve one wrong entry in every budget, or raise the answer for the spent one.

    With the cache down, the client that asked for the code still gets its entries, bounded
    by the code's own attempt limit in the database (no new code can be sent meanwhile);
    any other client gets ``service_unavailable``.
    """
    budgets = guess_budgets(phone=phone, client=client, code=code)
    if not budgets:
        return ratelimit.Reservation()
    try:
        return ratelimit.reserve(budgets)
    except ratelimit.BudgetSpent as spent:
        names = spent.names()
        if "ip_hour" in names:
            raise RateLimitedError(spent.wait) from None
        if names == {"code"}:
            raise _burned(phone, client) from None
        raise TooManyAttemptsError(
            spent.wait, _("Too many wrong codes for this phone. Try again later.")
        ) from None
    except Exception as exc:
        if not is_outage(exc):
            raise
        if code.client == client:
            logger.warning("Cache unavailable: wrong-code budgets not counted: %s", exc)
            return ratelimit.Reservation()
        raise _outage(exc) from exc


def _is_replaced_code(*, phone: str, hashed: str, now: datetime) -> bool:
    """Whether ``hashed`` is a still-unexpired code of ``phone`` that a newer one replaced."""
    return SignInCode.objects.filter(
        phone=phone,
        status=SignInCode.Status.SUPERSEDED,
        expires_at__gt=now,
        code_hash=hashed,
    ).exists()


def code_verify(*, phone: str, code: str, ip: str) -> tuple[AuthUser, bool]:
    """Check ``code`` for ``phone`` from client ``ip``; return the (maybe new) user and ``is_new``.

    A wrong entry is reserved in every budget *before* the comparison (and given back when
    the code was right), so parallel guesses cannot compare more than the limits allow.
    """
    client = ratelimit.client_key(ip)
    now = timezone.now()
    latest = (
        SignInCode.objects.filter(phone=phone)
        .exclude(status__in=[SignInCode.Status.PENDING, SignInCode.Status.FAILED])
        .order_by("-id")
        .first()
    )
    if (
        latest is None
        or latest.status not in (SignInCode.Status.ACTIVE, SignInCode.Status.BURNED)
        or latest.expires_at <= now
    ):
        raise NoActiveCodeError()
    own = latest.client == client
    if own and latest.status == SignInCode.Status.BURNED:
        raise _burned(phone, client)
    reservation = _reserve_guess(phone=phone, client=client, code=latest)
    try:
        signed_in = _compare(
            latest=latest, phone=phone, code=code, own=own, now=now, held=reservation
        )
    except InvalidCodeError:
        raise  # a wrong code: the reservation stays counted
    except BaseException:
        _refund(reservation)
        raise
    _refund(reservation)
    return signed_in


def _compare(
    *,
    latest: SignInCode,
    phone: str,
    code: str,
    own: bool,
    now: datetime,
    held: ratelimit.Reservation,
) -> tuple[AuthUser, bool]:
    max_attempts = app_settings.CODE_MAX_ATTEMPTS
    if own:
        # The asker's attempts are reserved with a conditional UPDATE: parallel guesses
        # cannot compare more than CODE_MAX_ATTEMPTS times.
        reserved = SignInCode.objects.filter(
            pk=latest.pk,
            status=SignInCode.Status.ACTIVE,
            attempts__lt=max_attempts,
            expires_at__gt=now,
        ).update(attempts=F("attempts") + 1)
        if reserved == 0:
            latest.refresh_from_db(fields=["status"])
            if latest.status == SignInCode.Status.BURNED:
                raise _burned(phone, latest.client)
            raise NoActiveCodeError()

    hashed = code_hash(phone=phone, code=code)
    if hmac.compare_digest(latest.code_hash, hashed):
        # The reservation proved this entry was within the limit, so a parallel wrong entry
        # that burned the code since then does not take the success away.
        won = SignInCode.objects.filter(
            pk=latest.pk, status__in=[SignInCode.Status.ACTIVE, SignInCode.Status.BURNED]
        ).update(status=SignInCode.Status.USED, used_at=now)
        if won == 0:  # a parallel correct entry took it first
            raise NoActiveCodeError()
        user, is_new = user_get_or_create(phone=phone)
        if not getattr(user, "is_active", True):
            raise AccountDisabledError()
        return user, is_new

    if _is_replaced_code(phone=phone, hashed=hashed, now=now):
        # The code of an earlier SMS: the person is not guessing, so the entry is given
        # back. It says nothing about the current code.
        if own:
            SignInCode.objects.filter(pk=latest.pk, attempts__gt=0).update(
                attempts=F("attempts") - 1
            )
        raise NoActiveCodeError(
            _("This code was replaced by a newer one. Enter the code from the latest SMS.")
        )
    if not own:
        used = held.counts[-1] if held.counts else max_attempts
        raise InvalidCodeError(attempts_left=max(0, max_attempts - used))
    SignInCode.objects.filter(
        pk=latest.pk, status=SignInCode.Status.ACTIVE, attempts__gte=max_attempts
    ).update(status=SignInCode.Status.BURNED)
    attempts = SignInCode.objects.filter(pk=latest.pk).values_list("attempts", flat=True)
    left = max(0, max_attempts - (attempts[0] if attempts else max_attempts))
    raise InvalidCodeError(attempts_left=left)


def user_get_or_create(*, phone: str) -> tuple[AuthUser, bool]:
    """The user of ``phone``, created on first sign-in (the unique phone settles races).

    ``user_signed_up`` is sent once the creation is committed.
    """
    account = PhoneAccount.objects.select_related("user").filter(phone=phone).first()
    if account is not None:
        return account.user, False
    adapter = get_adapter()
    try:
        with transaction.atomic():
            user = adapter.new_user(phone=phone)
            PhoneAccount.objects.create(user=user, phone=phone)
            adapter.on_signed_up(user=user, phone=phone)
            transaction.on_commit(
                lambda: signals.user_signed_up.send(sender=__name__, user=user, phone=phone)
            )
    except IntegrityError:
        account = PhoneAccount.objects.select_related("user").filter(phone=phone).first()
        if account is None:
            raise
        return account.user, False
    return user, True


def sign_in(*, phone: str, code: str, ip: str, request: HttpRequest | None = None) -> SignIn:
    """Check the code and open a login session; the sign-in signals follow the commit."""
    user, is_new = code_verify(phone=phone, code=code, ip=ip)
    pair = tokens.session_start(user=user)

    def announce() -> None:
        signals.user_signed_in.send(
            sender=__name__, user=user, phone=phone, is_new_user=is_new, request=request
        )
        user_logged_in.send(sender=user.__class__, request=request, user=user)

    transaction.on_commit(announce)
    return SignIn(user=user, is_new_user=is_new, tokens=pair)
