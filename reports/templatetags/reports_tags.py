from django import template
from django.utils.translation import gettext as _

from reports.exports import verdict_label

register = template.Library()


@register.filter
def share_class(share) -> str:
    """A colour class by share: the dashboards' red-to-green scale (grey: nothing to count)."""
    if share is None or share == "":
        return "lv-none"
    share = float(share)
    return "lv0" if share < 0.25 else "lv1" if share < 0.5 else "lv2" if share < 0.75 else "lv3"


@register.filter
def pct(share) -> str:
    return "—" if share is None else f"{float(share) * 100:.1f}%"


@register.filter
def score(value) -> str:
    """A 0–100 score with one decimal; none (a target or 乡镇 lacking data) is a dash, never 100."""
    return "—" if value is None or value == "" else f"{float(value):.1f}"


@register.filter
def verdict(value) -> str:
    return verdict_label(value)


@register.filter
def signed(value) -> str:
    if value is None:
        return "—"
    value = float(value)
    return f"{value:+.3g}" if value else "0"


@register.filter
def num(value) -> str:
    if value is None:
        return "—"
    value = float(value)
    return f"{value:.4g}" if abs(value) < 10 else f"{value:,.1f}".rstrip("0").rstrip(".")


__all__ = ["register", "_"]
