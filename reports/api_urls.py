"""The API of issue 19's programme figures, in a router of its own (included under /api/)."""
from rest_framework.routers import SimpleRouter

from .api_programme import PilotComparisonViewSet, ValueAddedViewSet

router = SimpleRouter()
router.register("value-added", ValueAddedViewSet, basename="value-added")
router.register("pilot-comparison", PilotComparisonViewSet, basename="pilot-comparison")
urlpatterns = router.urls
