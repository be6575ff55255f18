"""`{{ value|figure:point }}`: a point's figure written by its framework format (unit, scale,
decimals); `figure_change` with a sign, for gaps and changes."""
from django import template

from evaluation.figures import point_format

register = template.Library()


@register.filter
def figure(value, point) -> str:
    return point_format(point).text(value)


@register.filter
def figure_change(value, point) -> str:
    if value is not None and value == 0:
        return "0"
    return point_format(point).text(value, signed=True, with_unit=False)
