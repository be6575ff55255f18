"""Raw cells (as calamine or the csv module give them) → typed values, or an error message.

Forgiving about how people fill spreadsheets (full-width digits and brackets, stray spaces,
"95%" or "0.95", 是/否/√/×, "2024-2025学年"), strict about what is stored.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from . import columns as c


class CellError(ValueError):
    pass


_SPACE_RE = re.compile(r"\s+")
_INT_RE = re.compile(r"^\d+(?:\.0+)?$")
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?$")
_PERIOD_RE = re.compile(r"^(20\d\d)(?:\s*[-—–~至/]\s*(20\d\d))?(?:学年|年)?(?:度)?$")
FORMULA_PREFIXES = ("=", "+", "-", "@")


def normalise_text(value) -> str:
    """NFKC turns full-width digits, letters, brackets and % into their ASCII forms."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def normalise_header(value) -> str:
    return _SPACE_RE.sub("", normalise_text(value)).replace("*", "").replace("★", "")


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number_text(value) -> str:
    return normalise_text(value).replace(",", "").replace(" ", "")


def parse_int(value, column: c.Column):
    if type(value) is float and value.is_integer() and value >= 0:  # noqa: E721 - fast path for calamine numbers
        n = int(value)
    elif type(value) is int and value >= 0:  # noqa: E721
        n = value
    else:
        text = _number_text(value)
        if not _INT_RE.match(text):
            raise CellError(_("should be a whole number of 0 or more"))
        n = int(float(text))
    if column.max_value is not None and n > column.max_value:
        raise CellError(_("should be at most %(max)s") % {"max": f"{column.max_value:g}"})
    return n


def parse_decimal(value, column: c.Column):
    if isinstance(value, bool):
        raise CellError(_("should be a number of 0 or more"))
    if isinstance(value, (int, float)):
        if value < 0:
            raise CellError(_("should be a number of 0 or more"))
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if number.is_nan():  # compares with nothing; a spreadsheet never holds it, a program might
            raise CellError(_("should be a number of 0 or more"))
    else:
        text = _number_text(value)
        if not _NUMBER_RE.match(text):
            raise CellError(_("should be a number of 0 or more"))
        number = Decimal(text)
    if column.max_value is not None and number > Decimal(str(column.max_value)):
        raise CellError(_("should be at most %(max)s") % {"max": f"{column.max_value:g}"})
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def parse_rate(value, column: c.Column):
    if isinstance(value, bool):
        raise CellError(_("should be a share between 0 and 1, or a percentage such as 95%"))
    if isinstance(value, (int, float)):
        number = Decimal(repr(float(value)))
        if number.is_nan():
            raise CellError(_("should be a share between 0 and 1, or a percentage such as 95%"))
    else:
        text = _number_text(value)
        percent = text.endswith("%")
        text = text.rstrip("%")
        if not _NUMBER_RE.match(text):
            raise CellError(_("should be a share between 0 and 1, or a percentage such as 95%"))
        number = Decimal(text) / 100 if percent else Decimal(text)
    if not Decimal(0) <= number <= Decimal(1):
        raise CellError(_("should be a share between 0 and 1, or a percentage such as 95%"))
    return number.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


TRUE_WORDS = {"是", "有", "y", "yes", "true", "1", "√", "✓", "对", "开齐", "实行"}
FALSE_WORDS = {"否", "无", "没有", "n", "no", "false", "0", "×", "✗", "x", "未开齐", "未实行"}


def parse_bool(value, column: c.Column):
    if isinstance(value, bool):
        return value
    text = normalise_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(_("should be 是 or 否"))


GRADES = {"优": "excellent", "优秀": "excellent", "良": "good", "良好": "good", "合格": "pass", "不合格": "fail"}


def _choice(words: dict, message):
    """A parser for a column of fixed choices written as words."""

    def parse(value, column: c.Column):
        text = normalise_text(value)
        if text in words:
            return words[text]
        raise CellError(message())

    return parse


parse_grade = _choice(GRADES, lambda: _("should be one of 优, 良, 合格, 不合格"))


STAGES = {
    "幼儿园": "kindergarten",
    "小学": "primary",
    "初中": "junior",
    "初级中学": "junior",
    "九年一贯制": "nine_year",
    "九年一贯制学校": "nine_year",
    "完全中学": "complete_middle",
    "十二年一贯制": "twelve_year",
    "十二年一贯制学校": "twelve_year",
}


parse_stage = _choice(STAGES, lambda: _("should be one of 幼儿园, 小学, 初中, 九年一贯制, 完全中学, 十二年一贯制"))


HELP_KINDS = {
    "托管": "trusteeship",
    "集团化办学": "group",
    "集团分校": "group",
    "结对帮扶": "pairing",
    "结对": "pairing",
    "城乡结对": "pairing",
    "教研员包保": "researcher",
    "联盟": "alliance",
    "教育联盟": "alliance",
    "学校联盟": "alliance",
}


parse_help_kind = _choice(HELP_KINDS, lambda: _("should be one of 托管, 集团化办学, 联盟, 结对帮扶, 教研员包保"))


def _parse_code(value, digits: int) -> str:
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("should be a code of %(n)d digits") % {"n": digits})
        value = int(value)
    text = normalise_text(value).replace(" ", "")
    if digits == 9 and len(text) == 12 and text.endswith("000"):
        text = text[:9]  # the bureau's 12-digit form of a township code
    if len(text) != digits or not text.isdigit():
        raise CellError(_("should be a code of %(n)d digits") % {"n": digits})
    return text


def parse_code10(value, column: c.Column):
    return _parse_code(value, 10)


def parse_code9(value, column: c.Column):
    return _parse_code(value, 9)


def parse_period(value, column: c.Column):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = normalise_text(value).replace(" ", "")
    m = _PERIOD_RE.match(text)
    if not m or (m.group(2) and int(m.group(2)) != int(m.group(1)) + 1):
        raise CellError(_("should be the school year's starting year, such as 2024"))
    year = int(m.group(1))
    if not 2015 <= year <= 2099:
        raise CellError(_("should be the school year's starting year, such as 2024"))
    return year


def parse_text(value, column: c.Column):
    text = normalise_text(value) if not isinstance(value, str) else value.strip()
    if len(text) > 100:
        raise CellError(_("should be at most 100 characters"))
    if text.startswith(FORMULA_PREFIXES):
        raise CellError(_("text may not start with = + - @ (it would run as a formula)"))
    return text


PARSERS = {
    c.CODE10: parse_code10,
    c.CODE9: parse_code9,
    c.PERIOD: parse_period,
    c.INT: parse_int,
    c.DECIMAL: parse_decimal,
    c.RATE: parse_rate,
    c.BOOL: parse_bool,
    c.GRADE: parse_grade,
    c.STAGE: parse_stage,
    c.HELP_KIND: parse_help_kind,
    c.TEXT: parse_text,
}


def describe(value) -> str:
    """How a cell is quoted back to the user in an error."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"
