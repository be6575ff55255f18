"""The admin's side of the jurisdiction rule, shared by every app's ModelAdmin.

A ModelAdmin names the code column that places its rows (`scope_field`) and which roles may do
what (`role_actions`). Lists, change pages, search, filters, autocomplete, foreign-key choices and
exports all start from `get_queryset`, which is scoped, so an object outside the user's area is
"not found" exactly like a missing one.
"""
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from security.admin_audit import AuditedAdminMixin

from .jurisdiction import code_column, jurisdiction_for
from .models import Division, Level, Role

VIEW, CHANGE, ADD, DELETE = "view", "change", "add", "delete"
ALL = frozenset({VIEW, CHANGE, ADD, DELETE})


class ScopedAdminMixin:
    scope_field = "code"
    role_actions: dict[str, frozenset[str]] = {}

    def _role_allows(self, request, action: str) -> bool:
        user = request.user
        if not user.is_active:
            return False
        if user.is_superuser:
            return True
        return action in self.role_actions.get(user.role, frozenset())

    def _in_scope(self, request, obj) -> bool:
        return obj is None or jurisdiction_for(request).covers(self.scope_code(obj))

    def scope_code(self, obj) -> str | None:
        """The code that places `obj`, following `scope_field` (e.g. "township", "batch__...")."""
        *path, last = self.scope_field.split("__")
        for part in path:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        if hasattr(obj, f"{last}_id"):
            return getattr(obj, f"{last}_id")
        return getattr(obj, last, None)

    def get_queryset(self, request):
        return jurisdiction_for(request).filter(super().get_queryset(request), self.scope_field)

    def has_module_permission(self, request):
        return self._role_allows(request, VIEW)

    def has_view_permission(self, request, obj=None):
        return (self._role_allows(request, VIEW) or self._role_allows(request, CHANGE)) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._role_allows(request, CHANGE) and self._in_scope(request, obj)

    def has_add_permission(self, request, *args):
        return self._role_allows(request, ADD)

    def has_delete_permission(self, request, obj=None):
        return self._role_allows(request, DELETE) and self._in_scope(request, obj)

    def has_export_permission(self, request):
        return self._role_allows(request, VIEW)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Choices for a place are only places inside the user's area, so a form can never
        # move an object out of it.
        related = db_field.related_model
        if related is not None and issubclass(related, Division):
            kwargs["queryset"] = jurisdiction_for(request).filter(related._default_manager.all(), "code")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedAdmin(AuditedAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    pass


class ScopedDivisionListFilter(admin.SimpleListFilter):
    """Filter by a city or county, offering only those inside the user's area (a plain related
    filter would list every county of the province)."""

    level = Level.COUNTY

    def __init__(self, request, params, model, model_admin):
        self.field = model_admin.scope_field
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        divisions = jurisdiction_for(request).filter(Division.objects.filter(level=self.level), "code")
        return [(d.code, d.name) for d in divisions.only("code", "name")]

    def queryset(self, request, queryset):
        value = self.value()
        if value and jurisdiction_for(request).covers(value):
            return queryset.filter(**{f"{code_column(self.field)}__startswith": value})
        if value:
            return queryset.none()
        return queryset


class CityFilter(ScopedDivisionListFilter):
    title = _("city")
    parameter_name = "city"
    level = Level.CITY


class CountyFilter(ScopedDivisionListFilter):
    title = _("county")
    parameter_name = "county"
    level = Level.COUNTY


def actions(*names: str) -> frozenset[str]:
    return frozenset(names)


PROVINCE_ONLY = {Role.PROVINCE_STAFF: ALL}


EVERY_LEVEL = {Role.PROVINCE_STAFF: actions(VIEW), Role.CITY_STAFF: actions(VIEW), Role.COUNTY_OFFICER: actions(VIEW)}


class ReadOnlyScopedAdmin(ScopedAdmin):
    """Facts and the school list, to read and export: they change only through the validated
    upload (the same checks, locks, audit and roll-up), never around it."""

    role_actions = EVERY_LEVEL
    scope_field = "township"
    list_filter = ["period", CountyFilter]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    # For everyone, administrators included: a write here would skip the upload's checks.
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class UploadLinkMixin:
    """The admin's way in for uploads is the same validated upload as the page."""

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [path("upload/", self.admin_site.admin_view(lambda request: redirect("evaluation:home")), name="%s_%s_upload" % info)] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and not request.GET:
            messages.info(
                request,
                format_html(
                    '{} <a href="{}">{}</a>', _("Data are changed only by validated uploads:"), reverse("evaluation:home"), _("upload a spreadsheet")
                ),
            )
        return super().changelist_view(request, extra_context)
