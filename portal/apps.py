from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.contrib.staticfiles.apps import StaticFilesConfig


class PortalConfig(AppConfig):
    name = "portal"


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin_site.PortalAdminSite"


class PortalStaticFilesConfig(StaticFilesConfig):
    # Not collected: ReDoc (the API docs use Swagger UI) — 15 MB the image would carry and
    # collectstatic would hash and compress at every build.
    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "redoc"]
