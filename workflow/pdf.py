"""A template rendered to PDF (WeasyPrint), for the documents workflow issues itself — reports/
has its own exports, which workflow cannot import."""
from __future__ import annotations

from django.template.loader import render_to_string


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    # No base_url: the document needs nothing but its own HTML and fetches nothing.
    return HTML(string=render_to_string(template, context)).write_pdf()
