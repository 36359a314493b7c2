"""``GET /healthz`` and ``GET /livez``, for a project to mount at its root.

``path("", include("phone_auth.health_urls"))``: ``/healthz`` is the readiness check
(``200`` when the database and the cache answer, else ``503`` naming what is down, within
two seconds); ``/livez`` is the liveness check and touches neither.
"""

from django.urls import path

from phone_auth import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("livez", health.livez, name="livez"),
]
