"""``GET /healthz``, for a project to mount at its root.

``path("", include("phone_auth.health_urls"))``: ``200`` when the database and the cache
answer, else ``503`` naming what is down (a readiness check for load balancers).
"""

from django.urls import path

from phone_auth import api

urlpatterns = [
    path("healthz", api.healthz, name="healthz"),
]
