from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from townships.jurisdiction import is_staff_role


class PortalAdminSite(admin.AdminSite):
    site_header = _("Qiangzhen Zhuji portal administration")
    site_title = _("Qiangzhen Zhuji portal")
    index_title = _("Data administration")

    def has_permission(self, request):
        # Admin access follows the role; inspectors never get the admin, whatever is_staff says.
        user = request.user
        return user.is_active and (user.is_superuser or (user.is_staff and is_staff_role(user.role)))

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            # Logged in without admin access (an inspector): refuse instead of looping to login.
            raise PermissionDenied
        # One login page for the whole portal.
        return redirect_to_login(request.GET.get("next", reverse("admin:index")))
