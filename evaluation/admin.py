"""Admin for the stored facts and the upload history: read-only here (facts change only through
the validated upload), scoped by the same jurisdiction rule, exportable with formulas escaped."""
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ExportMixin

from security.admin_audit import AuditedAdminMixin
from townships.admin_scoping import ALL, EVERY_LEVEL, VIEW, CountyFilter, ReadOnlyScopedAdmin, ScopedAdmin, ScopedAdminMixin, UploadLinkMixin, actions
from townships.models import City, PilotBatch, Role

from .models import (
    Assignment,
    ConfirmedFlag,
    Framework,
    HelpRelation,
    ImportRun,
    InspectionForm,
    ObservationPoint,
    RollupJob,
    Round,
    RoundTownship,
    SchoolYear,
    TownshipYear,
)
from .services.forms import FormRefused, add_round_townships, assign_team, create_round, round_township_codes


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
    list_display = ["township", "period", "registered_primary", "attending_primary", "parents_satisfied", "parent_surveys_valid", "parent_surveys_collected"]
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


# --- Framework, rounds and assignments (provincial staff) ------------------------------------

PROVINCE_ALL = {Role.PROVINCE_STAFF: ALL}


class ProvinceOnlyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    role_actions = PROVINCE_ALL
    _role_allows = ScopedAdminMixin._role_allows

    def has_module_permission(self, request):
        return self._role_allows(request, VIEW)

    def has_view_permission(self, request, obj=None):
        return self._role_allows(request, VIEW)

    def has_add_permission(self, request, *args):
        return self._role_allows(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._role_allows(request, "change")

    def has_delete_permission(self, request, obj=None):
        return self._role_allows(request, "delete")


class PointInline(admin.TabularInline):
    model = ObservationPoint
    extra = 0
    fields = ["code", "name", "stages", "source_kind", "column", "denominator", "aggregation", "rule", "threshold", "min_valid", "weight", "veto", "portal_default", "unit", "scale", "decimals"]


@admin.register(Framework)
class FrameworkAdmin(ProvinceOnlyAdmin):
    list_display = ["version", "name", "frozen", "created_at"]

    def has_change_permission(self, request, obj=None):
        # A framework used by a round is frozen: edits go into a new version.
        return super().has_change_permission(request, obj) and not (obj and obj.frozen)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.frozen)


@admin.register(ObservationPoint)
class ObservationPointAdmin(ProvinceOnlyAdmin):
    list_display = ["code", "name", "target", "source_kind", "column", "rule", "threshold", "min_valid", "weight", "veto", "portal_default"]
    list_filter = ["target__framework", "source_kind", "rule", "portal_default"]
    search_fields = ["code", "name"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.target.framework.frozen)


class RoundTownshipInline(ScopedAdminMixin, admin.TabularInline):
    model = RoundTownship
    scope_field = "township"
    role_actions = PROVINCE_ALL
    autocomplete_fields = ["township"]
    extra = 0


class AssignmentFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """Every team has exactly one lead (the lead submits the team's form)."""
        super().clean()
        leads: dict[str, int] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or not data.get("township"):
                continue
            town = data["township"]
            leads[town.name] = leads.get(town.name, 0) + (1 if data.get("is_lead") else 0)
        wrong = sorted(name for name, count in leads.items() if count != 1)
        if wrong:
            raise forms.ValidationError(_("Each team needs exactly one lead: %(townships)s") % {"townships": "、".join(wrong)})


class AssignmentInline(ScopedAdminMixin, admin.TabularInline):
    model = Assignment
    formset = AssignmentFormSet
    scope_field = "township"
    role_actions = PROVINCE_ALL
    autocomplete_fields = ["township"]
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "inspector":
            from townships.models import User

            kwargs["queryset"] = User.objects.filter(role=Role.INSPECTOR, is_active=True)
            return admin.TabularInline.formfield_for_foreignkey(self, db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class RoundForm(forms.ModelForm):
    """Besides townships added one by one: all pilots of some batches, every 乡镇 of some cities,
    optionally a deterministic sample."""

    batches = forms.ModelMultipleChoiceField(label=_("pilots of these batches"), queryset=PilotBatch.objects.all(), required=False)
    cities = forms.ModelMultipleChoiceField(label=_("every township of these cities"), queryset=City.objects.filter(code__startswith="37"), required=False)
    sample = forms.IntegerField(label=_("sample of (number of townships)"), min_value=1, required=False)

    class Meta:
        model = Round
        fields = ["name", "period", "framework", "opens_on", "due_on"]


@admin.register(Round)
class RoundAdmin(ProvinceOnlyAdmin):
    form = RoundForm
    list_display = ["name", "period", "framework", "due_on", "township_count"]
    inlines = [RoundTownshipInline, AssignmentInline]

    @admin.display(description=_("townships"))
    def township_count(self, obj):
        return obj.townships.count()

    def save_model(self, request, obj, form, change):
        # Through the services, as the API and the bench do: the round freezes its framework.
        if change:
            super().save_model(request, obj, form, change)
            if not obj.framework.frozen:  # the round was moved to another framework version
                obj.framework.frozen = True
                obj.framework.save(update_fields=["frozen"])
            return
        rnd = create_round(name=obj.name, period=obj.period, framework=obj.framework, township_codes=[],
                           created_by=request.user, due_on=obj.due_on, opens_on=obj.opens_on)
        # The admin goes on with this object (inlines, the audit log): make it the created row.
        obj.pk, obj.created_by, obj.created_at = rnd.pk, rnd.created_by, rnd.created_at
        obj._state.adding, obj._state.db = False, rnd._state.db

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        rnd = form.instance
        add_round_townships(round=rnd, township_codes=round_township_codes(
            batch_ids=[b.pk for b in form.cleaned_data.get("batches") or []],
            city_codes=[c.code for c in form.cleaned_data.get("cities") or []],
            sample=form.cleaned_data.get("sample"),
            seed=rnd.name,
        ))
        # Each team through assign_team: its form opened, one lead, the inspectors notified.
        teams: dict[str, list] = {}
        for a in rnd.assignments.select_related("inspector"):
            teams.setdefault(a.township_id, []).append(a)
        for township_code, team in sorted(teams.items()):
            lead = next((a.inspector for a in team if a.is_lead), team[0].inspector)
            try:
                assign_team(round=rnd, township_code=township_code, inspectors=[a.inspector for a in team], lead=lead)
            except FormRefused as refused:
                messages.error(request, refused.message)
                transaction.set_rollback(True)
                return


@admin.register(InspectionForm)
class InspectionFormAdmin(ScopedAdmin):
    scope_field = "township"
    role_actions = EVERY_LEVEL
    list_display = ["round", "township", "status", "submitted_at"]
    list_filter = ["round", "status", CountyFilter]
    list_select_related = ["round", "township"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(RollupJob)
class RollupJobAdmin(ProvinceOnlyAdmin):
    list_display = ["id", "kind", "period", "prefix", "status", "units_done", "units_total", "started_at", "finished_at"]
    list_filter = ["kind", "status"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
