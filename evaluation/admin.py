"""Admin for the stored facts and the upload history: read-only here (facts change only through
the validated upload), scoped by the same jurisdiction rule, exportable with formulas escaped."""
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ExportMixin

from townships.admin_scoping import VIEW, CountyFilter, ScopedAdmin, actions
from townships.models import Role

from .models import ConfirmedFlag, HelpRelation, ImportRun, SchoolYear, TownshipYear

EVERY_LEVEL = {Role.PROVINCE_STAFF: actions(VIEW), Role.CITY_STAFF: actions(VIEW), Role.COUNTY_OFFICER: actions(VIEW)}


class ReadOnlyScopedAdmin(ScopedAdmin):
    role_actions = EVERY_LEVEL
    scope_field = "township"
    list_filter = ["period", CountyFilter]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


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


class SchoolYearResource(resources.ModelResource):
    class Meta:
        model = SchoolYear
        exclude = ["id", "updated_by_import"]


@admin.register(SchoolYear)
class SchoolYearAdmin(UploadLinkMixin, ExportMixin, ReadOnlyScopedAdmin):
    resource_classes = [SchoolYearResource]
    list_display = ["school", "period", "students", "teachers", "academic_average", "updated_at"]
    search_fields = ["school__code", "school__name"]
    list_select_related = ["school"]
    show_full_result_count = False


@admin.register(TownshipYear)
class TownshipYearAdmin(UploadLinkMixin, ExportMixin, ReadOnlyScopedAdmin):
    list_display = ["township", "period", "registered_primary", "attending_primary", "parents_satisfied", "parent_surveys_valid"]
    search_fields = ["township__code", "township__name"]
    list_select_related = ["township"]


@admin.register(HelpRelation)
class HelpRelationAdmin(ExportMixin, ReadOnlyScopedAdmin):
    list_display = ["helper", "helped", "kind", "period"]
    list_filter = ["period", "kind", CountyFilter]
    list_select_related = ["helper", "helped"]


@admin.register(ImportRun)
class ImportRunAdmin(ScopedAdmin):
    scope_field = "scope_code"
    role_actions = EVERY_LEVEL
    list_display = ["id", "created_at", "uploaded_by", "channel", "file_name", "status", "page_link"]
    list_filter = ["status", "channel"]
    search_fields = ["file_name", "sha256", "uploaded_by__username"]
    list_select_related = ["uploaded_by"]
    exclude = ["changes"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "changes"]

    @admin.display(description=_("details"))
    def page_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("evaluation:run", args=[obj.pk]), _("open"))


@admin.register(ConfirmedFlag)
class ConfirmedFlagAdmin(ReadOnlyScopedAdmin):
    role_actions = {Role.PROVINCE_STAFF: actions(VIEW), Role.CITY_STAFF: actions(VIEW)}
    list_display = ["confirmed_at", "subject", "field", "previous", "value", "reason", "confirmed_by"]
    list_filter = ["period", CountyFilter]
