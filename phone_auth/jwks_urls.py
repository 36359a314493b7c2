"""``GET /.well-known/jwks.json``, for a project to mount at its root.

``path("", include("phone_auth.jwks_urls"))`` publishes the public key of the access
tokens when they are signed with a key pair (``keys`` is empty with HS256).
"""

from django.urls import path

from phone_auth import api

urlpatterns = [
    path(".well-known/jwks.json", api.JwksApi.as_view(), name="jwks"),
]
