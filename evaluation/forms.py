from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from evaluation.imports import columns as c
from evaluation.imports.parsing import normalise_text


def period_choices():
    return [(y, f"{y}—{y + 1}学年") for y in range(2020, 2031)]


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Spreadsheet (XLSX, XLS or CSV)"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB.") % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        return f


class PeriodForm(forms.Form):
    period = forms.TypedChoiceField(label=_("School year"), choices=period_choices, coerce=int, initial=2024)


class TownshipYearForm(forms.Form):
    """Township facts typed in a form; the answers go through the upload's validation unchanged."""

    def __init__(self, *args, township_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township_code"] = forms.ChoiceField(label=_("Township"), choices=township_choices)
        self.fields["period"] = forms.TypedChoiceField(label=_("School year"), choices=period_choices, coerce=int, initial=2024)
        for col in c.TOWNSHIP_YEARS.columns[3:]:
            if col.kind == c.BOOL:
                self.fields[col.key] = forms.ChoiceField(label=col.header, choices=[("", "—"), ("是", "是"), ("否", "否")], required=False)
            else:
                self.fields[col.key] = forms.CharField(label=col.header, required=False, max_length=20)

    def as_rows(self) -> list[list[str]]:
        """The form as a one-row sheet with the template's headers."""
        data = self.cleaned_data
        cols = [col for col in c.TOWNSHIP_YEARS.columns if col.key != "township_name"]
        return [[col.header for col in cols], [normalise_text(data.get(col.key)) for col in cols]]
