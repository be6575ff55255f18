from django.urls import path

from . import views

app_name = "townships"
urlpatterns = [
    path("", views.accounts, name="accounts"),
    path("template.xlsx", views.accounts_template_download, name="accounts_template"),
    path("upload/", views.accounts_upload, name="accounts_upload"),
    path("issued/<str:token>.xlsx", views.accounts_issued_download, name="accounts_issued"),
    path("<int:pk>/active/", views.account_active, name="account_active"),
    path("<int:pk>/reset/", views.account_reset, name="account_reset"),
]
