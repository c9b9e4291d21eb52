from django.urls import path

from sojourn.consent import hcp_views, views

app_name = "portal"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-in/code/", views.sign_in_code, name="sign-in-code"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("verify/", views.verify, name="verify"),
    path("me/", views.me, name="me"),
    path("me/consents/<int:record_id>/receipt.pdf", views.receipt, name="receipt"),
    path("me/preferences/", views.preferences, name="preferences"),
    path("me/withdraw/", views.withdraw, name="withdraw"),
    path("me/reconsent/", views.reconsent, name="reconsent"),
    path("me/data-requests/", views.data_request, name="data-request"),
    path("<slug:program_slug>/<str:country>/enroll/", views.enroll, name="enroll"),
    path("hcp/sign-in/", hcp_views.sign_in, name="hcp-sign-in"),
    path("hcp/sign-in/code/", hcp_views.sign_in_code, name="hcp-sign-in-code"),
    path("hcp/verify/", hcp_views.verify, name="hcp-verify"),
    path("hcp/me/", hcp_views.me, name="hcp-me"),
    path("hcp/me/consents/<int:record_id>/receipt.pdf", hcp_views.receipt, name="hcp-receipt"),
    path("hcp/me/withdraw/", hcp_views.withdraw, name="hcp-withdraw"),
    path("<slug:program_slug>/<str:country>/hcp/enroll/", hcp_views.enroll, name="hcp-enroll"),
]
