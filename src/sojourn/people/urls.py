from django.contrib.auth import views as auth_views
from django.urls import path

from sojourn.people import invitation_views, token_views, views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="sign-out"),
    path("switch/", views.switch_scope, name="switch"),
    path("patients/", views.patient_list, name="patients"),
    path("patients/<str:pseudonym>/", views.patient_detail, name="patient"),
    path("patients/<str:pseudonym>/identity/", views.reveal_identity, name="reveal-identity"),
    path("invitations/", invitation_views.invitations, name="invitations"),
    path("invitations/codes.csv", invitation_views.invitation_codes, name="invitation-codes"),
    path("audit/", views.audit_log, name="audit"),
    path("preferences/", views.preferences, name="preferences"),
    path("api-tokens/", token_views.api_tokens, name="api-tokens"),
]
