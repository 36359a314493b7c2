"""URLs of the web UI."""

from django.urls import path

from phone_referrals_web import views

app_name = "phone_referrals_web"

urlpatterns = [
    path("", views.phone_page, name="phone"),
    path("code/", views.code_page, name="code"),
    path("code/resend/", views.code_resend, name="code_resend"),
    path("profile/", views.profile_page, name="profile"),
    path("profile/invite/", views.invite_activate, name="invite"),
    path("profile/details/", views.details_edit, name="details"),
    path("logout/", views.logout_view, name="logout"),
]
