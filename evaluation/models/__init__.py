from .data import ConfirmedFlag, Grade, HelpKind, HelpRelation, ImportRun, ImportStatus, SchoolYear, TownshipYear
from .framework import Aggregation, Framework, ObservationPoint, RuleKind, SourceKind, Target
from .results import AreaCountsDue, AreaResult, DeferredTask, PointResult, ResultsVersion, RollupJob, RollupUnit, TargetResult, TownshipResult
from .rounds import Assignment, Evidence, FormChange, FormEvent, InspectionForm, Judgment, JudgmentLevel, FormStatus, Round, RoundTownship

__all__ = [
    "ResultsVersion",
    "DeferredTask",
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
    "AreaResult",
    "RollupJob",
    "RollupUnit",
    "TargetResult",
    "TownshipResult",
    "Round",
    "RoundTownship",
    "RuleKind",
    "SchoolYear",
    "SourceKind",
    "Target",
    "TownshipYear",
]
