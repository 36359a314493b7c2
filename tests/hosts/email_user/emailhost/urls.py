"""The host's URLs: the admin, plus the README's lines for the apps and the web UI."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
]

# ---- README ----
urlpatterns += [
    path("api/v1/auth/", include("phone_auth.urls")),
    path("api/v1/", include("referrals.urls")),
    path("", include("phone_auth.jwks_urls")),  # GET /.well-known/jwks.json
    path("", include("phone_auth.health_urls")),  # GET /healthz
]
# ---- README ----

# ---- README: web UI ----
urlpatterns += [path("account/", include("phone_referrals_web.urls"))]  # /account/ signs in
# ---- README: web UI ----
