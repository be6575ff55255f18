from .data import ConfirmedFlag, Grade, HelpKind, HelpRelation, ImportRun, ImportStatus, SchoolYear, TownshipYear
from .framework import Aggregation, Framework, ObservationPoint, RuleKind, SourceKind, Target, TrendReading
from .results import AreaCountsDue, AreaResult, PointResult, RollupJob, RollupUnit, TargetResult, TownshipResult
from .rounds import Assignment, Evidence, FormChange, FormEvent, FormStatus, InspectionForm, Judgment, JudgmentLevel, Round, RoundTownship

__all__ = [
    "Aggregation",
    "Assignment",
    "ConfirmedFlag",
    "Evidence",
    "FormChange",
    "FormEvent",
    "FormStatus",
    "Framework",
    "Grade",
    "HelpKind",
    "HelpRelation",
    "ImportRun",
    "ImportStatus",
    "InspectionForm",
    "Judgment",
    "JudgmentLevel",
    "ObservationPoint",
    "PointResult",
    "AreaCountsDue",
    "AreaResult",
    "RollupJob",
    "RollupUnit",
    "TargetResult",
    "TownshipResult",
    "TrendReading",
    "Round",
    "RoundTownship",
    "RuleKind",
    "SchoolYear",
    "SourceKind",
    "Target",
    "TownshipYear",
]
