"""`evaluate`: how well detection (and cases) found what the simulator's truth says happened."""

from shadowfleet.evaluate.config import DEFAULT, EvalConfig
from shadowfleet.evaluate.score import EVENT_TYPES, CaseScore, EvalReport, TypeScore, evaluate
from shadowfleet.evaluate.truth import load_truth

__all__ = ["evaluate", "EvalReport", "TypeScore", "CaseScore", "EvalConfig", "DEFAULT", "EVENT_TYPES", "load_truth"]
