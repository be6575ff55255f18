"""Dashboards read the roll-up's result tables (evaluation/). reports/ owns only the map layer."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MapLayer(models.Model):
    """An approved map of the province's cities, uploaded by provincial staff. Published maps of
    China need a review number (审图号), so the portal ships none: without a layer the dashboard
    draws a tile map; with an active one it draws this."""

    name = models.CharField(_("name"), max_length=100)
    approval_number = models.CharField(_("map review number"), max_length=50)
    geojson = models.TextField(_("GeoJSON"))
    features = models.PositiveIntegerField(_("matched cities"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("map layer")
        verbose_name_plural = _("map layers")
        ordering = ["-uploaded_at"]
        constraints = [models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True), name="one_active_map")]

    def __str__(self):
        return f"{self.name}（{self.approval_number}）"
