from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from evaluation.api import ImportRunViewSet, SchoolYearViewSet
from evaluation.api_forms import AssignmentViewSet, FormViewSet, FrameworkViewSet, RoundViewSet
from evaluation.api_verification import FindingViewSet, ItemViewSet, SampleViewSet
from reports.api import AreaResultViewSet, PointResultViewSet, ScorecardViewSet, TargetResultViewSet, TownshipResultViewSet
from security import views as security_views
from surveys.api import QuestionnaireViewSet, WindowViewSet
from townships.api import AccountViewSet, DivisionViewSet, SchoolViewSet
from workflow.api import (
    AssessmentViewSet,
    CaseViewSet,
    DeadlineViewSet,
    FundingViewSet,
    NotificationViewSet,
    PlanViewSet,
    RectificationViewSet,
)
from workflow.api_accountability import AccountabilityViewSet, NoticeViewSet, PilotAcceptanceViewSet, TalkViewSet

from . import views

handler404 = "portal.errors.not_found"
handler500 = "portal.errors.server_error"

router = DefaultRouter()
router.register("divisions", DivisionViewSet, basename="division")
router.register("schools", SchoolViewSet, basename="school")
router.register("imports", ImportRunViewSet, basename="import")
router.register("school-years", SchoolYearViewSet, basename="school-year")
router.register("frameworks", FrameworkViewSet, basename="framework")
router.register("rounds", RoundViewSet, basename="round")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("forms", FormViewSet, basename="form")
router.register("verification-samples", SampleViewSet, basename="verification-sample")
router.register("verification-items", ItemViewSet, basename="verification-item")
router.register("verification-findings", FindingViewSet, basename="verification-finding")
router.register("plans", PlanViewSet, basename="plan")
router.register("plan-deadlines", DeadlineViewSet, basename="plan-deadline")
router.register("self-assessments", AssessmentViewSet, basename="self-assessment")
router.register("rectification-items", RectificationViewSet, basename="rectification-item")
router.register("cases", CaseViewSet, basename="case")
router.register("funding", FundingViewSet, basename="funding")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("questionnaires", QuestionnaireViewSet, basename="questionnaire")
router.register("survey-windows", WindowViewSet, basename="survey-window")
router.register("accounts", AccountViewSet, basename="account")
router.register("point-results", PointResultViewSet, basename="point-result")
router.register("target-results", TargetResultViewSet, basename="target-result")
router.register("township-results", TownshipResultViewSet, basename="township-result")
router.register("area-results", AreaResultViewSet, basename="area-result")
router.register("scorecards", ScorecardViewSet, basename="scorecard")
router.register("notices", NoticeViewSet, basename="notice")
router.register("talks", TalkViewSet, basename="talk")
router.register("accountability-decisions", AccountabilityViewSet, basename="accountability-decision")
router.register("pilot-acceptances", PilotAcceptanceViewSet, basename="pilot-acceptance")

class FaviconView(RedirectView):
    """Resolved per request: with hashed static names the manifest is read once files are collected."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("portal/favicon.svg")


urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("favicon.ico", FaviconView.as_view()),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", security_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/otp/", security_views.otp_verify, name="otp_verify"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/units/", include("townships.urls")),
    path("data/", include("evaluation.urls")),
    path("dashboard/", include("reports.urls")),
    path("workflow/", include("workflow.urls")),
    path("surveys/", include("surveys.urls")),
    # The public answer pages, the only pages without a login.
    path("s/", include("surveys.public_urls")),
    path("api/", include(router.urls)),
    path("api/", include("reports.api_urls")),
    # The schema and its docs describe the data: for logged-in users only.
    path("api/schema/", login_required(SpectacularAPIView.as_view()), name="schema"),
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
]
