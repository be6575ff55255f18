from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources
from import_export.admin import ExportMixin

from core import ports

from .admin_scoping import ALL, CHANGE, VIEW, CityFilter, CountyFilter, ReadOnlyScopedAdmin, ScopedAdmin, ScopedAdminMixin, UploadLinkMixin, actions
from .jurisdiction import jurisdiction_for
from .models import City, County, DivisionAlias, Level, PilotBatch, PilotTownship, Province, Role, School, Township, User
from .services.accounts import may_manage_accounts, set_accounts_active
from .services.pilot_status import delete_pilot_entry, save_pilot_entry, validate_pilot_entry
from .services.users import validate_role_unit

VIEW_CHANGE = actions(VIEW, CHANGE)


class DivisionAdminBase(ScopedAdmin):
    """Official divisions: names are editable by provincial staff, codes and the tree are not."""

    list_display = ["code", "name", "parent"]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "level", "parent", "kind"]
    fields = ["code", "name", "level", "parent", "kind"]
    list_select_related = ["parent"]
    show_full_result_count = False


@admin.register(Province)
class ProvinceAdmin(DivisionAdminBase):
    role_actions = {Role.PROVINCE_STAFF: VIEW_CHANGE}
    list_display = ["code", "name"]


@admin.register(City)
class CityAdmin(DivisionAdminBase):
    role_actions = {Role.PROVINCE_STAFF: VIEW_CHANGE, Role.CITY_STAFF: actions(VIEW)}


@admin.register(County)
class CountyAdmin(DivisionAdminBase):
    role_actions = {Role.PROVINCE_STAFF: VIEW_CHANGE, Role.CITY_STAFF: actions(VIEW), Role.COUNTY_OFFICER: actions(VIEW)}
    list_filter = [CityFilter]


@admin.register(Township)
class TownshipAdmin(DivisionAdminBase):
    role_actions = {Role.PROVINCE_STAFF: VIEW_CHANGE, Role.CITY_STAFF: actions(VIEW), Role.COUNTY_OFFICER: actions(VIEW)}
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind", CityFilter, CountyFilter]


@admin.register(DivisionAlias)
class DivisionAliasAdmin(ScopedAdmin):
    scope_field = "division"
    role_actions = {Role.PROVINCE_STAFF: ALL}
    list_display = ["alias", "division", "scope", "level", "reason"]
    search_fields = ["alias", "division__name"]
    list_select_related = ["division", "scope"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "scope":
            from .jurisdiction import jurisdiction_for
            from .models import Division

            kwargs["queryset"] = jurisdiction_for(request).filter(
                Division.objects.filter(level__in=[Level.CITY, Level.COUNTY]), "code"
            )
            return admin.ModelAdmin.formfield_for_foreignkey(self, db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PilotEntryForm(forms.ModelForm):
    """The pilot service's checks, as the form's errors (nothing is saved while one stands)."""

    def _post_clean(self):
        super()._post_clean()
        if not self.errors and self.instance.batch_id:
            try:
                validate_pilot_entry(entry=self.instance)
            except ValidationError as e:
                self._update_errors(e)


class PilotEntryFormSet(forms.BaseInlineFormSet):
    def save(self, commit=True):
        # Through the service: checked, audited, and the years it touches recomputed.
        user = getattr(self, "request_user", None)
        # What the admin's change message reads.
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        for form in self.deleted_forms:
            if form.instance.pk:
                self.deleted_objects.append(form.instance)
                delete_pilot_entry(entry=form.instance, user=user)
        for form in self.forms:
            if form in self.deleted_forms or not form.has_changed():
                continue
            entry = form.save(commit=False)
            entry.batch = self.instance
            is_new = entry.pk is None
            save_pilot_entry(entry=entry, user=user)
            if is_new:
                self.new_objects.append(entry)
            else:
                self.changed_objects.append((entry, form.changed_data))
        return self.new_objects + [e for e, _f in self.changed_objects]


class PilotTownshipInline(ScopedAdminMixin, admin.TabularInline):
    model = PilotTownship
    scope_field = "township"
    role_actions = {Role.PROVINCE_STAFF: ALL, Role.CITY_STAFF: actions(VIEW), Role.COUNTY_OFFICER: actions(VIEW)}
    autocomplete_fields = ["township"]
    fields = ["township", "listed_as", "phase", "status", "accepted_in", "withdrawn_in"]
    extra = 0
    formset = PilotEntryFormSet
    form = PilotEntryForm

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.request_user = request.user
        return formset

    def has_add_permission(self, request, obj=None):
        return self._role_allows(request, "add")


@admin.register(PilotBatch)
class PilotBatchAdmin(admin.ModelAdmin):
    """Batches are province-wide metadata; their townships are scoped in the inline."""

    list_display = ["year", "name", "source_document", "is_demo"]
    inlines = [PilotTownshipInline]
    role_actions = {Role.PROVINCE_STAFF: ALL, Role.CITY_STAFF: actions(VIEW), Role.COUNTY_OFFICER: actions(VIEW)}

    _role_allows = ScopedAdminMixin._role_allows

    def has_module_permission(self, request):
        return self._role_allows(request, VIEW)

    def has_view_permission(self, request, obj=None):
        return self._role_allows(request, VIEW)

    def has_change_permission(self, request, obj=None):
        return self._role_allows(request, CHANGE)

    def has_add_permission(self, request):
        return self._role_allows(request, "add")

    def has_delete_permission(self, request, obj=None):
        return self._role_allows(request, "delete")

    def save_model(self, request, obj, form, change):
        before = PilotBatch.objects.filter(pk=obj.pk).values_list("year", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        if change and before != obj.year:
            # Its townships count as pilots from another year now.
            ports.facts_changed(township_codes=obj.townships.values_list("township_id", flat=True), from_period=min(before, obj.year))

    def history_view(self, request, object_id, extra_context=None):
        # A batch's history records its inline edits, which name townships of every county.
        if not self.has_change_permission(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)


@admin.register(PilotTownship)
class PilotTownshipAdmin(ScopedAdmin):
    scope_field = "township"
    role_actions = {Role.PROVINCE_STAFF: ALL, Role.CITY_STAFF: actions(VIEW), Role.COUNTY_OFFICER: actions(VIEW)}
    list_display = ["township", "county_name", "batch", "phase", "status", "listed_as"]
    list_filter = ["batch", "phase", "status", CityFilter, CountyFilter]
    search_fields = ["township__name", "township__code", "listed_as"]
    autocomplete_fields = ["township"]
    list_select_related = ["township__parent", "batch"]
    form = PilotEntryForm
    fields = ["batch", "township", "listed_as", "phase", "status", "accepted_in", "withdrawn_in"]

    # Through the service: checked, audited, and the years it touches recomputed.
    def save_model(self, request, obj, form, change):
        save_pilot_entry(entry=obj, user=request.user)

    def delete_model(self, request, obj):
        delete_pilot_entry(entry=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for entry in queryset.select_related("batch"):
            delete_pilot_entry(entry=entry, user=request.user)

    @admin.display(description=_("county"))
    def county_name(self, obj):
        return obj.township.parent.name


class SchoolResource(resources.ModelResource):
    township_name = fields.Field(attribute="township__name", column_name=_("township"), readonly=True)

    class Meta:
        model = School
        fields = ["code", "name", "stage", "township", "township_name", "is_seat", "is_urban", "is_urban_quality", "is_demo"]
        export_order = fields


@admin.register(School)
class SchoolAdmin(UploadLinkMixin, ExportMixin, ReadOnlyScopedAdmin):
    """Read-only: a school's stage, flags and township are read by every year's results, so they
    change through the school-list upload (学校名录), which checks, audits and recomputes them."""

    resource_classes = [SchoolResource]
    scope_field = "township"
    list_display = ["code", "name", "stage", "township", "is_seat", "is_urban", "is_urban_quality", "is_demo"]
    list_filter = ["stage", "is_seat", "is_urban", "is_urban_quality", "is_demo", CityFilter, CountyFilter]
    search_fields = ["code", "name", "township__name"]
    list_select_related = ["township"]
    show_full_result_count = False


class RoleUnitFormMixin:
    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                validate_role_unit(role=cleaned.get("role"), unit=cleaned.get("unit"))
            except ValidationError as e:
                self.add_error("unit", e)
        return cleaned


class PortalUserChangeForm(RoleUnitFormMixin, UserChangeForm):
    pass


class PortalUserCreationForm(RoleUnitFormMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ["username", "role", "unit"]


@admin.register(User)
class PortalUserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    scope_field = "unit"
    role_actions = {Role.PROVINCE_STAFF: actions(VIEW, CHANGE, "add")}
    list_display = ["username", "full_name", "phone", "role", "unit", "is_active", "must_change_password", "last_login"]
    list_filter = ["role", "is_active", CityFilter, CountyFilter]
    search_fields = ["username", "full_name", "phone", "unit__code", "unit__name"]
    list_select_related = ["unit"]
    actions = ["deactivate_accounts"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["full_name", "phone", "email"]}),
        (_("Role and unit"), {"fields": ["role", "unit", "is_active"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "role", "unit", "usable_password", "password1", "password2"]})
    ]
    readonly_fields = ["last_login", "date_joined"]

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and not request.GET and may_manage_accounts(request.user):
            messages.info(request, format_html('{} <a href="{}">{}</a>', _("Many accounts at once, with one-time passwords:"),
                                               reverse("townships:accounts"), _("upload an accounts spreadsheet")))
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Deactivate the selected accounts (their history is kept)"))
    def deactivate_accounts(self, request, queryset):
        try:
            changed = set_accounts_active(actor=request.user, jurisdiction=jurisdiction_for(request),
                                          user_ids=list(queryset.values_list("pk", flat=True)), active=False)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, _("%(n)d accounts deactivated.") % {"n": len(changed)})

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser and obj is not None:
            fieldsets = [*fieldsets, (_("Permissions"), {"fields": ["is_staff", "is_superuser", "groups"]})]
        return fieldsets

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "unit":
            field.queryset = field.queryset.exclude(level=Level.TOWNSHIP)
        return field

    def save_model(self, request, obj, form, change):
        from townships.jurisdiction import is_staff_role

        # Admin access follows the role (the form has validated role and unit).
        obj.is_staff = obj.is_superuser or is_staff_role(obj.role)
        super().save_model(request, obj, form, change)
