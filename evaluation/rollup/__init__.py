"""The roll-up in SQL: every result of a framework for every 乡/镇 under a code prefix, set-based,
idempotent, the same on SQLite and PostgreSQL. `evaluation.rules` reads the same rules for one
township in Python and is the oracle the tests hold this to.

- `points`: the data points, read off the facts (one aggregate builder, one write);
- `verdicts`: judgments, the seven targets and each township's count;
- `areas`: the counts per county, city and province, and the programme's scorecard;
- `run`: the entry points (a county, its judgments alone, everything);
- `scope`: the framework version of each round and year, the years held, areas as code ranges, rounds, planner settings, changed-page tokens;
- `words`: the vocabulary (`evaluation.vocabulary`) as SQL.
"""
from .areas import goal_progress, rollup_levels, scorecard
from .points import rollup_points
from .run import rollup_all, rollup_county, rollup_judgments
from .scope import (
    counties_holding,
    county_codes,
    current_framework,
    framework_for_period,
    frameworks_by_round,
    held_periods,
    periods_reading,
    prefix_range,
    refresh_statistics,
)

__all__ = [
    "counties_holding",
    "county_codes",
    "current_framework",
    "framework_for_period",
    "frameworks_by_round",
    "goal_progress",
    "held_periods",
    "periods_reading",
    "prefix_range",
    "refresh_statistics",
    "rollup_all",
    "rollup_county",
    "rollup_judgments",
    "rollup_levels",
    "rollup_points",
    "scorecard",
]
