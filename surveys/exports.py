"""The codes to hand out: printable slips (QR code and short code) and an XLSX list."""
from __future__ import annotations

from io import BytesIO

import qrcode
import qrcode.image.svg
from django.utils.translation import gettext as _

from surveys.services.windows import format_code


def qr_svg(url: str) -> str:
    """An inline SVG (no image files, no script): prints sharp at any size."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def codes_xlsx(*, window, codes, url_of) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = _("Answer codes")
    ws.append([_("school identifier"), _("school"), _("code"), _("address"), _("answered")])
    for c in codes:
        # Codes, names and addresses are text the portal made; nothing starts with "=".
        ws.append([c.school.code, c.school.name, format_code(c.code), url_of(c.code), _("yes") if c.spent_at else _("no")])
    for col, width in zip("ABCDE", (12, 30, 16, 48, 8), strict=True):
        ws.column_dimensions[col].width = width
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
