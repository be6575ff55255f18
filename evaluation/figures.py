"""How an observation point's figures are written: its unit, its scale (a share shown as %, a
per-student figure shown per 100 students, a yes/no) and its decimals — read from the framework
(`ObservationPoint.unit`, `scale`, `decimals`), so the pages, the PDF, the XLSX and the
inspectors' form write every figure the same way. Values are stored as computed (a share is a
fraction); only their writing changes."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from evaluation.models import PointScale


@dataclass(frozen=True)
class PointFormat:
    scale: str
    decimals: int
    unit: str

    def scaled(self, value) -> float | None:
        """The number a reader sees (a per-student figure times 100; a share stays a fraction,
        which the "%" format multiplies), as a float for a spreadsheet cell."""
        if value is None:
            return None
        value = float(value)
        return value * 100 if self.scale == PointScale.PER_100 else value

    @property
    def excel(self) -> str:
        """The cell's number format."""
        places = "." + "0" * self.decimals if self.decimals else ""
        if self.scale == PointScale.SHARE:
            return f"0{places}%"
        if self.scale == PointScale.YES_NO:
            return f'[=1]"{_("yes")}";[=0]"{_("no")}";0.00'
        return f"#,##0{places}"

    @property
    def unit_label(self) -> str:
        """The unit written beside the number ("%" is in the number itself)."""
        if self.scale == PointScale.PER_100:
            return _("%(unit)s per 100 students") % {"unit": self.unit} if self.unit else _("per 100 students")
        if self.scale == PointScale.SHARE:
            return "%"
        return self.unit

    def text(self, value, *, signed: bool = False, with_unit: bool = True) -> str:
        """A figure as text: 31.7%, 14.2 台/百生, 3,400 元, 是 — or a dash when there is none."""
        if value is None:
            return "—"
        number = self.scaled(value)
        if self.scale == PointScale.YES_NO and not signed:
            return str(_("yes")) if number >= 1 else str(_("no"))
        shown = number * 100 if self.scale == PointScale.SHARE else number
        if float(f"{shown:.{self.decimals}f}") == 0:
            # A figure that rounds to zero is written 0.0, not -0.0 or +0.0 (a value-added
            # interval's bound a hair below zero).
            shown = 0.0
        sign = "+" if signed and shown > 0 else ""
        if self.scale == PointScale.SHARE:
            return f"{sign}{shown:,.{self.decimals}f}%"
        out = f"{sign}{shown:,.{self.decimals}f}"
        return f"{out} {self.unit_label}" if with_unit and self.unit_label else out


def point_format(point) -> PointFormat:
    return PointFormat(scale=point.scale or PointScale.VALUE, decimals=int(point.decimals), unit=point.unit or "")


def figure(value, point, *, signed: bool = False) -> str:
    return point_format(point).text(value if value is None else Decimal(value), signed=signed)
