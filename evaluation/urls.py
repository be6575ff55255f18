from django.urls import path

from . import views

app_name = "evaluation"
urlpatterns = [
    path("", views.data_home, name="home"),
    path("upload/", views.upload, name="upload"),
    path("template.xlsx", views.template_download, name="template"),
    path("export.<str:fmt>", views.export, name="export"),
    path("township/", views.township_form, name="township_form"),
    path("flags/", views.confirmed_flags, name="flags"),
    path("imports/<int:pk>/", views.run_detail, name="run"),
    path("imports/<int:pk>/status.json", views.run_status, name="run_status"),
    path("imports/<int:pk>/commit/", views.run_commit, name="run_commit"),
    path("imports/<int:pk>/file", views.run_file, name="run_file"),
]
