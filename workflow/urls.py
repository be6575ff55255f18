from django.urls import path

from . import views, views_accountability

app_name = "workflow"
urlpatterns = [
    path("", views.home, name="home"),
    path("notifications/read", views.notifications_read, name="notifications_read"),
    path("plans/", views.plan_overview, name="plans"),
    path("plans/mine/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("assessments/", views.assessment_list, name="assessments"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment"),
    path("rectification/", views.item_list, name="items"),
    path("rectification/<int:pk>/", views.item_detail, name="item"),
    path("cases/", views.case_list, name="cases"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("funding/", views.funding, name="funding"),
    path("files/<str:kind>/<int:pk>", views.stored_file, name="file"),
    path("accountability/", views_accountability.overview, name="accountability"),
    path("accountability/<int:pk>/", views_accountability.decision_detail, name="decision"),
    path("notices/<int:pk>/", views_accountability.notice_detail, name="notice"),
    path("notices/<int:pk>/pdf", views_accountability.notice_pdf, name="notice_pdf"),
    path("talks/<int:pk>/", views_accountability.talk_detail, name="talk"),
    path("pilots/acceptance/", views_accountability.pilot_acceptance, name="pilot_acceptance"),
    path("counties/<str:code>/record/", views_accountability.county_record, name="county_record"),
]
