from django.urls import path

from . import views

app_name = "surveys"
urlpatterns = [
    path("", views.window_list, name="windows"),
    path("new/", views.window_new, name="new"),
    path("<int:pk>/", views.window_detail, name="window"),
    path("<int:pk>/slips/", views.window_slips, name="slips"),
    path("<int:pk>/codes.xlsx", views.window_codes_xlsx, name="codes_xlsx"),
    path("<int:pk>/close", views.window_close, name="close"),
    path("<int:pk>/count", views.window_count, name="count"),
]
