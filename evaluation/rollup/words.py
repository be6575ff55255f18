"""The vocabulary (`evaluation.vocabulary`) as SQL: verdicts and stages as literals, the grade
scale and the score credits as CASE expressions, the stage map as a VALUES list — generated from
the same definitions the Python rules read, so the two cannot drift apart."""
from __future__ import annotations

import re

from evaluation.vocabulary import GRADE_SCORE, SCHOOL_STAGES, VERDICT_CREDIT, EvaluationStage, JudgmentLevel, Verdict


def literal(word: str) -> str:
    """A vocabulary word as an SQL string literal. Only for the fixed words of the vocabulary,
    never for user input — hence the check rather than quoting (a comma: a list of stages)."""
    if not re.fullmatch(r"[a-z_,]+", word):
        raise ValueError(f"not a vocabulary word: {word!r}")
    return f"'{word}'"


ATTAINED = literal(Verdict.ATTAINED)
BASIC = literal(Verdict.BASIC)
NOT_ATTAINED = literal(Verdict.NOT_ATTAINED)
INSUFFICIENT = literal(Verdict.INSUFFICIENT)
# The levels an inspector may give, as an IN list.
JUDGMENT_LEVELS = ", ".join(literal(level) for level in JudgmentLevel.values)
# The stage of township facts and judgments: the whole township.
WHOLE_TOWNSHIP = literal(EvaluationStage.ALL)

# (school kind, evaluation stage) pairs: a school counts once for each stage of its kind.
STAGE_VALUES = ", ".join(f"({literal(kind)}, {literal(stage)})" for kind, stages in SCHOOL_STAGES.items() for stage in stages)


def grade_number(ref: str) -> str:
    """A grade column as its number on the scale (4 excellent … 1 fail); blank grades are NULL."""
    return f"CASE {ref} " + " ".join(f"WHEN {literal(g)} THEN {float(n)}" for g, n in GRADE_SCORE.items()) + " END"


def credited_weight(weight: str, verdict: str) -> str:
    """The weights (an integer column, in hundredths) of the points earning credit, each times its
    credit, as sums of plain integers per verdict — what SUM(weight * credit) gives, without a
    decimal product and sum for every row."""
    return " + ".join(
        f"{float(c)} * COALESCE(SUM({weight}) FILTER (WHERE {verdict} = {literal(v)}), 0)" for v, c in VERDICT_CREDIT.items() if c
    )


def pilot_in_year(entry: str, batch: str) -> str:
    """A pilot entry (`entry` joined with its `batch`) counts in the school year %(period)s: from
    its batch's year until the year it was withdrawn in — the SQL of `PilotQuerySet.in_year`."""
    return f"({batch}.year <= %(period)s AND ({entry}.withdrawn_in IS NULL OR {entry}.withdrawn_in > %(period)s))"
