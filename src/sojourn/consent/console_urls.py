from django.urls import path

from sojourn.consent import console_views as views

app_name = "console-consent"

urlpatterns = [
    path("enroll/", views.enroll, name="enroll"),
    path("patients/<str:pseudonym>/", views.patient_consent, name="patient"),
    path("patients/<str:pseudonym>/withdraw/", views.withdraw, name="withdraw"),
    path("patients/<str:pseudonym>/code/", views.read_back_code, name="read-back"),
    path("patients/<str:pseudonym>/data-requests/", views.open_request, name="open-request"),
    path("records/<int:record_id>/receipt.pdf", views.receipt, name="receipt"),
    path("requests/", views.data_requests, name="requests"),
    path("requests/<int:request_id>/access/", views.complete_access, name="complete-access"),
    path("requests/<int:request_id>/erasure/", views.complete_erasure, name="complete-erasure"),
]
