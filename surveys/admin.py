"""Questionnaires are the province's, edited here while no survey used them (then read-only:
changes go into a new version). Survey windows are listed for reading; they change only through
the county's pages (codes, answers and counts are the services')."""
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from evaluation.admin import ProvinceOnlyAdmin
from townships.admin_scoping import EVERY_LEVEL, CountyFilter, ReadOnlyScopedAdmin

from .models import Item, Questionnaire, SurveyWindow
from .services.questionnaires import check_definition, ensure_editable


class ItemFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        parent = self.instance
        items = [f.cleaned_data for f in self.forms if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")]
        scale = getattr(parent, "scale", None) or []
        check_definition(scale=scale, satisfied_choices=getattr(parent, "satisfied_choices", None) or [], items=items)


class ItemInline(admin.TabularInline):
    model = Item
    formset = ItemFormSet
    extra = 0
    fields = ["number", "text", "kind", "counts"]

    def _editable(self, request, obj):
        return request.user.is_active and request.user.is_provincial and not (obj and obj.frozen)

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_provincial


class QuestionnaireForm(forms.ModelForm):
    class Meta:
        model = Questionnaire
        fields = ["code", "version", "title", "audience", "stages", "introduction", "scale", "satisfied_choices", "rule", "portal_default", "source_note"]

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            try:
                ensure_editable(Questionnaire.objects.get(pk=self.instance.pk))
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages)
        scale, satisfied = data.get("scale"), data.get("satisfied_choices")
        if not isinstance(scale, list) or not isinstance(satisfied, list):
            raise forms.ValidationError(_("The scale and the satisfied choices are lists of choices, e.g. [\"满意\", \"一般\"]."))
        try:
            check_definition(scale=scale, satisfied_choices=satisfied, items=[{"number": 0, "counts": True}])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages)
        return data


@admin.register(Questionnaire)
class QuestionnaireAdmin(ProvinceOnlyAdmin):
    form = QuestionnaireForm
    list_display = ["title", "code", "version", "audience", "rule", "portal_default", "frozen"]
    list_filter = ["audience", "frozen", "portal_default"]
    readonly_fields = ["frozen"]
    inlines = [ItemInline]

    def has_change_permission(self, request, obj=None):
        # Used by a survey: frozen, so the answers already given keep meaning what they meant.
        return super().has_change_permission(request, obj) and not (obj and obj.frozen)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.frozen)


@admin.register(SurveyWindow)
class SurveyWindowAdmin(ReadOnlyScopedAdmin):
    role_actions = EVERY_LEVEL
    scope_field = "township"
    list_display = ["township", "questionnaire", "period", "opens_at", "closes_at", "counted_at"]
    list_filter = ["period", CountyFilter]
    list_select_related = ["township", "questionnaire"]
    exclude = ["prefix"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "prefix"]
