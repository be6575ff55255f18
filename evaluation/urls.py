from django.urls import path

from . import views, views_forms, views_quality, views_verification

app_name = "evaluation"
urlpatterns = [
    path("", views.data_home, name="home"),
    path("upload/", views.upload, name="upload"),
    path("template.xlsx", views.template_download, name="template"),
    path("export.<str:fmt>", views.export, name="export"),
    path("township/", views.township_form, name="township_form"),
    path("flags/", views.confirmed_flags, name="flags"),
    path("quality/", views_quality.quality_warnings, name="quality"),
    path("imports/<int:pk>/", views.run_detail, name="run"),
    path("imports/<int:pk>/status.json", views.run_status, name="run_status"),
    path("imports/<int:pk>/commit/", views.run_commit, name="run_commit"),
    path("imports/<int:pk>/file", views.run_file, name="run_file"),
    path("inspect/", views_forms.form_list, name="forms"),
    path("inspect/<int:pk>/", views_forms.form_detail, name="form"),
    path("inspect/<int:pk>/save", views_forms.form_save, name="form_save"),
    path("inspect/<int:pk>/submit", views_forms.form_submit, name="form_submit"),
    path("inspect/<int:pk>/return", views_forms.form_return, name="form_return"),
    path("inspect/<int:pk>/evidence/<int:judgment_id>", views_forms.evidence_upload, name="evidence_upload"),
    path("evidence/<int:evidence_id>", views_forms.evidence_file, name="evidence"),
    path("verification/", views_verification.verification_home, name="verification"),
    path("verification/draw", views_verification.verification_draw, name="verification_draw"),
    path("verification/evidence/<int:item_id>", views_verification.verification_evidence, name="verification_evidence"),
    path("inspect/<int:pk>/verify/<int:item_id>", views_verification.verification_record, name="verification_record"),
]
