from django.urls import path

from sojourn.consent import console_documents as documents
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
    path("documents/", documents.documents, name="documents"),
    path("documents/<str:country>/<str:audience>/new/", documents.new_version, name="new-version"),
    path("versions/<int:version_id>/", documents.version_detail, name="version"),
    path("versions/<int:version_id>/edit/", documents.revise_version, name="revise-version"),
    path("versions/<int:version_id>/<str:action>/", documents.review_action, name="review"),
]
