"""URLs of the standalone service: the API, its docs, health, the admin and the web UI.

``i18n/setlang/`` is Django's ``set_language``: the web UI's language switch posts to it.
"""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from config.views import ApiNotFound

api_v1 = [
    path("auth/", include("phone_auth.urls")),
    path("", include("referrals.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the page needs no inline
    # script, so its Content-Security-Policy allows none.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="config/redoc.html"),
        name="redoc",
    ),
    re_path(r"^api/", ApiNotFound.as_view()),
    path("", include("phone_auth.jwks_urls")),
    path("", include("phone_auth.health_urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("phone_referrals_web.urls")),
]

handler400 = "config.views.json_bad_request"
handler403 = "config.views.json_permission_denied"
handler404 = "config.views.json_not_found"
handler500 = "config.errors.server_error"
