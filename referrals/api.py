"""HTTP API of the referral program: always the caller's own data, never by id.

Only the staff routes take a user id. Rules live in ``services``; reads in ``selectors``;
the OpenAPI description of these views in ``referrals.schema``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from phone_auth.aio import loop_store
from phone_auth.api import json_answer
from phone_auth.authentication import bearer_claims
from phone_auth.errors import ServiceUnavailableError, is_outage
from phone_auth.ratelimit import client_ip
from phone_auth.serializers import EmailStringField, StrictSerializer, StringField
from phone_auth.typing import AuthUser
from phone_auth.users import (
    EDITABLE_USER_FIELDS,
    editable_user_fields,
    refuse_placeholder_email,
    user_field,
)
from referrals import profile_cache, services
from referrals.models import PointsEntry, Referral
from referrals.selectors import (
    ProfileView,
    aprofile_for_session,
    ledger_entry_phone,
    phone_of,
    points_ledger,
    profile_body,
    profile_for_session,
    profile_view,
    referrals_list,
    staff_users,
    staff_users_search,
)

logger = logging.getLogger(__name__)

# Personal data: no shared cache keeps it, and the answer depends on the token.
PROFILE_HEADERS = {"Cache-Control": "no-store", "Vary": "Accept, Authorization"}


class ProfileOutputSerializer(serializers.Serializer):
    """The caller's profile."""

    id = serializers.IntegerField()
    phone = serializers.CharField(allow_null=True, help_text="E.164.")
    invite_code = serializers.CharField(
        allow_null=True, help_text="My own code, to give to people I invite."
    )
    activated_invite_code = serializers.CharField(
        allow_null=True, help_text="The code I activated; `null` until I activate one."
    )
    inviter_phone = serializers.CharField(
        allow_null=True, help_text="The phone of the owner of the code I activated."
    )
    referrals = serializers.ListField(
        child=serializers.CharField(),
        help_text="Phones of the users who activated my code, newest first (capped at 100).",
    )
    referrals_count = serializers.IntegerField(help_text="How many users activated my code.")
    points = serializers.IntegerField(help_text="The sum of my points ledger.")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField(help_text='`""` when the user has given none.')
    date_joined = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: ProfileView) -> dict[str, Any]:
        """The one body builder both profile readers share."""
        return profile_body(instance)


class InviteCodeField(StringField):
    """An invite code as typed: a JSON string, trimmed (case is ignored by the service)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "help_text",
            "Someone else's invite code; case-insensitive, surrounding spaces ignored.",
        )
        super().__init__(trim_whitespace=True, **kwargs)


_read_profile = sync_to_async(profile_for_session)


async def _profile_read_fast(request: HttpRequest, headers: dict[str, str]) -> HttpResponse | None:
    """``GET /profile/`` for a valid token: one statement, no DRF, no model objects.

    On the event loop the login's body is kept in Redis until something it shows changes
    (``referrals.profile_cache``); a kept, current body is the whole answer.

    ``None`` when this path cannot answer (no or bad token, closed session, disabled
    user, another database than PostgreSQL): the DRF view then gives the answer or the
    exact error.
    """
    claims = bearer_claims(request)
    if claims is None:
        return None
    store = loop_store()
    tag: bytes | None = None
    try:
        if store is not None:
            kept, tag = await profile_cache.aread(
                store, user_id=claims.user_id, session_id=claims.session_id
            )
            if kept is not None:
                return HttpResponse(kept, content_type="application/json", headers=headers)
            view = await aprofile_for_session(
                store, session_id=claims.session_id, user_id=claims.user_id
            )
        else:
            view = await _read_profile(session_id=claims.session_id, user_id=claims.user_id)
    except Exception as exc:
        if not is_outage(exc):
            raise
        logger.warning("Backing service unavailable in the profile read: %s", exc)
        outage = ServiceUnavailableError()
        return json_answer(outage.body(), outage.status_code, outage.headers())
    if view is None:
        return None
    answer = json_answer(profile_body(view), 200, headers)
    if store is not None and tag is not None:
        await profile_cache.akeep(
            store,
            user_id=claims.user_id,
            session_id=claims.session_id,
            tag=tag,
            body=answer.content,
        )
    return answer


class ProfileApi(APIView):
    """Read or edit the caller's profile.

    A ``GET`` with a valid token is answered by ``_profile_read_fast`` on the event loop;
    everything else (and every refusal) goes through DRF as usual.
    """

    permission_classes = [IsAuthenticated]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., Any]:  # type: ignore[override]
        """DRF's view behind an async front door for the common read."""
        drf_view = super().as_view(**initkwargs)
        full_way = sync_to_async(drf_view)
        # The headers DRF's answer has (``Allow`` from the view), plus the profile's own.
        shape = cls(**initkwargs)
        shape.head = shape.get  # type: ignore[attr-defined]  # as View.setup does
        headers = {**PROFILE_HEADERS, "Allow": ", ".join(shape.allowed_methods)}

        async def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method == "GET":
                response = await _profile_read_fast(request, headers)
                if response is not None:
                    return response
            answer: HttpResponseBase = await full_way(request, *args, **kwargs)
            return answer

        view.cls = cls  # type: ignore[attr-defined]  # read by the schema generator
        view.initkwargs = initkwargs  # type: ignore[attr-defined]
        view.__doc__ = cls.__doc__
        return csrf_exempt(view)

    class PatchSerializer(StrictSerializer):
        """The fields to change; every key is optional."""

        first_name = StringField(max_length=150, required=False, allow_blank=True)
        last_name = StringField(max_length=150, required=False, allow_blank=True)
        email = EmailStringField(max_length=254, required=False, allow_blank=True)
        activated_invite_code = InviteCodeField(required=False)

        def get_fields(self) -> dict[str, serializers.Field]:
            """The declared fields, following the host's user model.

            A name or email field the model does not have is an unknown key; each other
            takes what the model's column takes (length, blank, ``null``).
            """
            fields = super().get_fields()
            editable = editable_user_fields()
            for name in EDITABLE_USER_FIELDS:
                model_field = user_field(name)
                if name not in editable or model_field is None:
                    del fields[name]
                    continue
                field_class = EmailStringField if name == "email" else StringField
                fields[name] = field_class(
                    max_length=model_field.max_length,
                    required=False,
                    allow_blank=model_field.blank,
                    allow_null=model_field.null,
                    validators=[refuse_placeholder_email] if name == "email" else [],
                )
            return fields

    def get(self, request: Request) -> Response:
        """The caller's profile (the ORM reader: SQLite, or a token the fast path refused)."""
        return Response(
            ProfileOutputSerializer(profile_view(user=request.user)).data,  # type: ignore[arg-type]
            headers=PROFILE_HEADERS,
        )

    def patch(self, request: Request) -> Response:
        """Edit name and email; ``activated_invite_code`` activates a code."""
        serializer = self.PatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        code = fields.pop("activated_invite_code", None)
        user: AuthUser = request.user  # type: ignore[assignment]
        services.profile_update(user=user, fields=fields, invite_code=code, ip=client_ip(request))
        return Response(ProfileOutputSerializer(profile_view(user=user)).data)


class ProfileInviteApi(APIView):
    """Activate someone's invite code (once, ever)."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(StrictSerializer):
        """The invite code to activate."""

        invite_code = InviteCodeField()

    def post(self, request: Request) -> Response:
        """Activate and answer with the whole profile."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user: AuthUser = request.user  # type: ignore[assignment]
        services.invite_activate(
            user=user, code=serializer.validated_data["invite_code"], ip=client_ip(request)
        )
        return Response(ProfileOutputSerializer(profile_view(user=user)).data)


class StrictPageSize:
    """``?page_size=`` must be a whole number from 1 to the maximum, else ``400``.

    DRF quietly falls back to the default for ``abc``, ``-1`` or ``0`` and trims what is
    over the maximum; a client that asked for something else should learn it did.
    """

    page_size: int | None = 50
    page_size_query_param: str | None = "page_size"
    max_page_size: int | None = 200

    def get_page_size(self, request: Request) -> int | None:
        """The asked page size, checked; the default when none was asked."""
        name = self.page_size_query_param or "page_size"
        largest = self.max_page_size or 200
        raw = request.query_params.get(name)
        if raw is None:
            return self.page_size
        digits = raw.strip()
        if (
            digits.isascii()
            and digits.isdigit()
            and len(digits) <= 6
            and 1 <= int(digits) <= largest
        ):
            return int(digits)
        raise serializers.ValidationError(
            {name: [_("Enter a whole number from 1 to %(max)d.") % {"max": largest}]}
        )


class NewestFirstCursor(StrictPageSize, CursorPagination):
    """Stable cursor paging, newest first."""

    ordering = ("-created_at", "-id")

    def decode_cursor(self, request: Request) -> Cursor | None:
        """DRF's cursor, whose position must be a timestamp (DRF would query with anything)."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                valid = parse_datetime(str(cursor.position)) is not None
            except ValueError:
                valid = False
            if not valid:
                raise NotFound(self.invalid_cursor_message)
        return cursor


class ReferralItemSerializer(serializers.ModelSerializer):
    """One user who activated my code."""

    phone = serializers.SerializerMethodField(help_text="The invitee's phone (E.164).")
    activated_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Referral
        fields = ("phone", "activated_at")

    def get_phone(self, obj: Referral) -> str | None:
        """The invitee's phone."""
        return phone_of(obj.invitee)


class ProfileReferralsApi(generics.ListAPIView):
    """Everyone who activated my code, newest first, cursor-paged."""

    permission_classes = [IsAuthenticated]
    serializer_class = ReferralItemSerializer
    pagination_class = NewestFirstCursor

    def get_queryset(self) -> QuerySet[Referral]:
        """Only the caller's referrals."""
        return referrals_list(user=self.request.user)  # type: ignore[arg-type]


class PointsEntrySerializer(serializers.ModelSerializer):
    """One ledger line."""

    amount = serializers.IntegerField(help_text="Points awarded by this entry.")
    phone = serializers.SerializerMethodField(
        help_text="The other side of the referral: who I invited, or who invited me."
    )

    class Meta:
        model = PointsEntry
        fields = ("amount", "reason", "phone", "created_at")

    def get_phone(self, obj: PointsEntry) -> str | None:
        """The invitee's phone for inviter entries, the inviter's for invitee entries."""
        return ledger_entry_phone(obj)


class ProfilePointsApi(generics.ListAPIView):
    """My points ledger, newest first, cursor-paged."""

    permission_classes = [IsAuthenticated]
    serializer_class = PointsEntrySerializer
    pagination_class = NewestFirstCursor

    def get_queryset(self) -> QuerySet[PointsEntry]:
        """Only the caller's entries."""
        return points_ledger(user=self.request.user)  # type: ignore[arg-type]


class StaffUserSerializer(serializers.Serializer):
    """A user as staff see it."""

    id = serializers.IntegerField()
    phone = serializers.SerializerMethodField()
    invite_code = serializers.SerializerMethodField()
    points = serializers.SerializerMethodField()
    referrals_count = serializers.IntegerField()
    is_staff = serializers.BooleanField()
    is_active = serializers.BooleanField()
    date_joined = serializers.DateTimeField(
        allow_null=True, help_text="`null` when the user model has no joining date."
    )

    def get_phone(self, obj: Any) -> str | None:
        """E.164 phone."""
        return phone_of(obj)

    def get_invite_code(self, obj: Any) -> str | None:
        """The user's own code."""
        profile = getattr(obj, "referral_profile", None)
        return profile.invite_code if profile else None

    def get_points(self, obj: Any) -> int:
        """Balance."""
        profile = getattr(obj, "referral_profile", None)
        return int(profile.points) if profile else 0


class StaffPagination(StrictPageSize, PageNumberPagination):
    """Numbered pages for the staff list."""


class StaffUserListApi(generics.ListAPIView):
    """Staff only: all users, searchable by phone."""

    permission_classes = [IsAuthenticated, IsAdminUser]
    serializer_class = StaffUserSerializer
    pagination_class = StaffPagination

    def get_queryset(self) -> QuerySet[Any]:
        """Filtered by ``?search=`` (part of the phone)."""
        return staff_users_search(search=self.request.query_params.get("search", ""))


class StaffUserDetailApi(generics.RetrieveAPIView):
    """Staff only: one user."""

    permission_classes = [IsAuthenticated, IsAdminUser]
    serializer_class = StaffUserSerializer

    def get_queryset(self) -> QuerySet[Any]:
        """All users."""
        return staff_users()
