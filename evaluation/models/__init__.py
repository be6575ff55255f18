from .data import ConfirmedFlag, Grade, HelpKind, HelpRelation, ImportRun, ImportStatus, SchoolYear, TownshipYear
from .framework import Aggregation, Framework, ObservationPoint, RuleKind, SourceKind, Target
from .rounds import Assignment, Evidence, FormChange, FormEvent, InspectionForm, Judgment, JudgmentLevel, FormStatus, Round, RoundTownship

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
    "Round",
    "RoundTownship",
    "RuleKind",
    "SchoolYear",
    "SourceKind",
    "Target",
    "TownshipYear",
]
