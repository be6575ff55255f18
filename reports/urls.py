from django.urls import path

from . import views, views_annual

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.xlsx", views.dashboard_xlsx, name="dashboard_xlsx"),
    path("report.pdf", views.dashboard_pdf, name="dashboard_pdf"),
    path("township/<str:code>/", views.township, name="township"),
    path("township/<str:code>/export.xlsx", views.township_xlsx, name="township_xlsx"),
    path("township/<str:code>/report.pdf", views.township_pdf, name="township_pdf"),
    path("map/", views.map_upload, name="map_upload"),
    path("map.geojson", views.map_geojson, name="map_geojson"),
    path("annual-report/", views_annual.annual_report_pdf, name="annual_report"),
]
