"""Every change made in the admin goes to the audit log with its old → new values."""
from .audit import changes, record


def _values(obj) -> dict:
    return type(obj)._default_manager.filter(pk=obj.pk).values().first() or {}


class AuditedAdminMixin:
    def save_model(self, request, obj, form, change):
        old = _values(obj) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        record(action="admin_change" if change else "admin_add", request=request, target=f"{obj._meta.label}:{obj.pk}",
               detail=changes(old, _values(obj)))

    def delete_model(self, request, obj):
        target, old = f"{obj._meta.label}:{obj.pk}", _values(obj)
        super().delete_model(request, obj)
        record(action="admin_delete", request=request, target=target, detail=changes(old, {}))

    def delete_queryset(self, request, queryset):
        label, pks = queryset.model._meta.label, [str(pk) for pk in queryset.values_list("pk", flat=True)]
        super().delete_queryset(request, queryset)
        record(action="admin_delete", request=request, target=f"{label}:{','.join(pks)}"[:200], detail={"count": len(pks)})
