"""The OpenAPI description of the referral views of ``referrals.api``.

Summaries, descriptions, documented errors and examples of each operation, the names of
the serializers' components, and the referral profile in the sign-in answer of
``phone_auth`` (when the referral adapter answers sign-ins). The app config imports this
module, so the descriptions are registered with drf-spectacular whenever the app is
installed.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from phone_auth.adapter import get_adapter
from phone_auth.errors import RateLimitedError
from phone_auth.openapi import (
    INVALID_INPUT,
    NOT_FOUND,
    PERMISSION_DENIED,
    RETRY_AFTER_HEADER,
    ErrorCase,
    ViewSchema,
    error_doc,
    name_components,
    unauthenticated_doc,
)
from phone_auth.schema import VerifyCodeSchema
from referrals import api
from referrals.adapter import ReferralAdapter
from referrals.errors import (
    InviteAlreadyActivatedError,
    InviteCodeNotFoundError,
    InviteCycleError,
    OwnInviteCodeError,
)

PROFILE_EXAMPLE: dict[str, Any] = {
    "id": 17,
    "phone": "+79110000000",
    "invite_code": "7HJ2QK",
    "activated_invite_code": "A2B3C4",
    "inviter_phone": "+79110000001",
    "referrals": ["+79110000002", "+79110000003"],
    "referrals_count": 2,
    "points": 300,
    "first_name": "",
    "last_name": "",
    "email": "",
    "date_joined": "2026-11-21T10:00:00Z",
}
# A user who has just signed up: an invite code, nothing activated, no referrals yet.
NEW_PROFILE_EXAMPLE: dict[str, Any] = {
    **PROFILE_EXAMPLE,
    "activated_invite_code": None,
    "inviter_phone": None,
    "referrals": [],
    "referrals_count": 0,
    "points": 0,
}
STAFF_USER_EXAMPLE: dict[str, Any] = {
    "id": 17,
    "phone": "+79110000000",
    "invite_code": "7HJ2QK",
    "points": 300,
    "referrals_count": 2,
    "is_staff": False,
    "is_active": True,
    "date_joined": "2026-11-21T10:00:00Z",
}

ACTIVATION_ERRORS: dict[int | str, OpenApiResponse] = {
    404: error_doc(
        ErrorCase.of(InviteCodeNotFoundError), description="No user has this invite code."
    ),
    409: error_doc(
        ErrorCase.of(InviteAlreadyActivatedError),
        description="The caller has already activated a code (one per user, ever).",
    ),
    429: error_doc(
        ErrorCase.of(RateLimitedError, retry_after=1800),
        description="Too many failed activations by this user or from this address.",
    ),
}
BAD_PAGE_SIZE = error_doc(
    INVALID_INPUT.with_fields(page_size=["Enter a whole number from 1 to 200."]),
    description="`page_size` is not a whole number from 1 to 200.",
)
PAGE_NOT_FOUND = error_doc(
    NOT_FOUND, description="The `cursor` or `page` does not point at a page of this list."
)
PAGED_LIST_ERRORS: dict[int | str, OpenApiResponse] = {
    401: unauthenticated_doc(),
    400: BAD_PAGE_SIZE,
    404: PAGE_NOT_FOUND,
}
STAFF_ERRORS: dict[int | str, OpenApiResponse] = {
    401: unauthenticated_doc(),
    403: error_doc(PERMISSION_DENIED, description="The caller is not staff."),
}

name_components(
    {
        api.ProfileOutputSerializer: "Profile",
        api.ProfileApi.PatchSerializer: "ProfileUpdate",
        api.ProfileInviteApi.InputSerializer: "InviteActivate",
    }
)


class SignInWithReferralProfileSchema(VerifyCodeSchema):
    """The sign-in answer while ``ReferralAdapter`` answers sign-ins: a sign-up also gets an
    invite code, and ``profile`` is the referral profile."""

    priority = 1

    def signed_up(self) -> str:
        """What the first sign-in of a phone creates."""
        return "the user and its invite code" if self._referral_adapter() else super().signed_up()

    def profile_example(self) -> dict[str, Any]:
        """The ``profile`` of a new user."""
        return NEW_PROFILE_EXAMPLE if self._referral_adapter() else super().profile_example()

    @staticmethod
    def _referral_adapter() -> bool:
        return isinstance(get_adapter(), ReferralAdapter)


class ProfileSchema(ViewSchema):
    """``GET`` and ``PATCH /profile/``."""

    target_class = api.ProfileApi

    def operations(self) -> dict[str, dict[str, Any]]:
        """Read and edit the profile."""
        return {
            "get": {
                "operation_id": "profile_read",
                "tags": ["profile"],
                "summary": "My profile",
                "description": (
                    "The caller's own profile: invite code, the activated code and its owner, "
                    "referrals, points and contact fields."
                ),
                "responses": {
                    200: OpenApiResponse(api.ProfileOutputSerializer, description="My profile."),
                    401: unauthenticated_doc(),
                },
                "examples": [OpenApiExample("Profile", value=PROFILE_EXAMPLE, response_only=True)],
            },
            "patch": {
                "operation_id": "profile_update",
                "tags": ["profile"],
                "summary": "Edit my profile",
                "description": (
                    "Writable: `first_name`, `last_name`, `email` and `activated_invite_code` "
                    "(which activates the code exactly like `POST /api/v1/profile/invite/`). "
                    "Any other key is `400 invalid_input`. When the activation fails nothing "
                    "changes."
                ),
                "request": api.ProfileApi.PatchSerializer,
                "responses": {
                    200: OpenApiResponse(
                        api.ProfileOutputSerializer, description="The updated profile."
                    ),
                    400: error_doc(
                        INVALID_INPUT.with_fields(points=["This field cannot be set."]),
                        ErrorCase.of(OwnInviteCodeError),
                        ErrorCase.of(InviteCycleError),
                        description=(
                            "A key that cannot be set, a bad value, or a refused activation."
                        ),
                    ),
                    401: unauthenticated_doc(),
                    **ACTIVATION_ERRORS,
                },
                "parameters": [RETRY_AFTER_HEADER],
                "examples": [
                    OpenApiExample(
                        "Name and email",
                        value={"first_name": "Anna", "email": "anna@example.com"},
                        request_only=True,
                    ),
                    OpenApiExample(
                        "Activate a code",
                        value={"activated_invite_code": "a2b3c4"},
                        request_only=True,
                    ),
                    OpenApiExample("Profile", value=PROFILE_EXAMPLE, response_only=True),
                ],
            },
        }


class ProfileInviteSchema(ViewSchema):
    """``POST /profile/invite/``."""

    target_class = api.ProfileInviteApi

    def operations(self) -> dict[str, dict[str, Any]]:
        """Activate a code."""
        return {
            "post": {
                "operation_id": "profile_invite_activate",
                "tags": ["profile"],
                "summary": "Activate an invite code",
                "description": (
                    "Makes the code's owner my inviter, once and for ever: I get +100 points "
                    "and the owner +200, each as an entry of the points ledger, in one "
                    "transaction. Refused for my own code and for a code whose owner I "
                    "invited (directly or further down the chain). Repeated failures are "
                    "rate-limited."
                ),
                "request": api.ProfileInviteApi.InputSerializer,
                "responses": {
                    200: OpenApiResponse(
                        api.ProfileOutputSerializer, description="The updated profile."
                    ),
                    400: error_doc(
                        INVALID_INPUT.with_fields(invite_code=["This field is required."]),
                        ErrorCase.of(OwnInviteCodeError),
                        ErrorCase.of(InviteCycleError),
                        description="No code, my own code, or a code whose owner I invited.",
                    ),
                    401: unauthenticated_doc(),
                    **ACTIVATION_ERRORS,
                },
                "parameters": [RETRY_AFTER_HEADER],
                "examples": [
                    OpenApiExample("Request", value={"invite_code": "a2b3c4"}, request_only=True),
                    OpenApiExample("Profile", value=PROFILE_EXAMPLE, response_only=True),
                ],
            }
        }


class ProfileReferralsSchema(ViewSchema):
    """``GET /profile/referrals/``."""

    target_class = api.ProfileReferralsApi

    def operations(self) -> dict[str, dict[str, Any]]:
        """A page of referrals."""
        return {
            "get": {
                "operation_id": "profile_referrals",
                "tags": ["profile"],
                "summary": "My referrals",
                "description": "Everyone who activated my code, newest first, cursor-paged.",
                "responses": {
                    200: OpenApiResponse(
                        api.ReferralItemSerializer(many=True), description="A page of referrals."
                    ),
                    **PAGED_LIST_ERRORS,
                },
                "examples": [
                    OpenApiExample(
                        "Referral",
                        value={"phone": "+79110000002", "activated_at": "2026-11-21T10:05:00Z"},
                        response_only=True,
                    )
                ],
            }
        }


class ProfilePointsSchema(ViewSchema):
    """``GET /profile/points/``."""

    target_class = api.ProfilePointsApi

    def operations(self) -> dict[str, dict[str, Any]]:
        """A page of ledger entries."""
        return {
            "get": {
                "operation_id": "profile_points",
                "tags": ["profile"],
                "summary": "My points ledger",
                "description": (
                    "Every award I got, newest first, cursor-paged; `points` of the profile "
                    "is their sum. Entries are never changed or removed."
                ),
                "responses": {
                    200: OpenApiResponse(
                        api.PointsEntrySerializer(many=True),
                        description="A page of ledger entries.",
                    ),
                    **PAGED_LIST_ERRORS,
                },
                "examples": [
                    OpenApiExample(
                        "Inviter bonus",
                        value={
                            "amount": 200,
                            "reason": "referral_inviter",
                            "phone": "+79110000002",
                            "created_at": "2026-11-21T10:05:00Z",
                        },
                        response_only=True,
                    )
                ],
            }
        }


class StaffUserListSchema(ViewSchema):
    """``GET /users/``."""

    target_class = api.StaffUserListApi

    def operations(self) -> dict[str, dict[str, Any]]:
        """A page of users."""
        return {
            "get": {
                "operation_id": "staff_users_list",
                "tags": ["staff"],
                "summary": "Users (staff only)",
                "description": (
                    "Every user, oldest first, in numbered pages; `search` filters by phone."
                ),
                "parameters": [
                    OpenApiParameter(
                        "search",
                        str,
                        description="Part of the phone number, e.g. `911` or `+7911`.",
                    )
                ],
                "responses": {
                    200: OpenApiResponse(
                        api.StaffUserSerializer(many=True), description="A page of users."
                    ),
                    **STAFF_ERRORS,
                    400: BAD_PAGE_SIZE,
                    404: PAGE_NOT_FOUND,
                },
                "examples": [OpenApiExample("User", value=STAFF_USER_EXAMPLE, response_only=True)],
            }
        }


class StaffUserDetailSchema(ViewSchema):
    """``GET /users/<id>/``."""

    target_class = api.StaffUserDetailApi

    def operations(self) -> dict[str, dict[str, Any]]:
        """One user."""
        return {
            "get": {
                "operation_id": "staff_users_read",
                "tags": ["staff"],
                "summary": "One user (staff only)",
                "description": "A user by id, with the state of the referral program.",
                "responses": {
                    200: OpenApiResponse(api.StaffUserSerializer, description="The user."),
                    **STAFF_ERRORS,
                    404: error_doc(NOT_FOUND, description="No user has this id."),
                },
                "examples": [OpenApiExample("User", value=STAFF_USER_EXAMPLE, response_only=True)],
            }
        }
