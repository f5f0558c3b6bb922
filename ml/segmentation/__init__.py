"""Behavioural segment discovery for e-mail lists, as a pure modelling library (no Dagster, no DuckDB).

Input: the ``subscriber_profiles`` mart as a pandas DataFrame (one row per subscriber).

    from ml.segmentation import SegmentationModel, check_gates
    model = SegmentationModel(random_state=0).fit(profiles, previous=champion_or_None)
    assigned = model.assign(profiles)       # subscriber_key, macro/micro ids and names, confidence, reason
    model.segment_profiles_                 # traits, names, descriptions, send hour, content, cadence
    report = check_gates(model.segment_profiles_, model.gate_metrics(), champion.gate_metrics())

Modules, one job each: ``features`` (profile -> matrix), ``macro`` (automatic-k segments with
stability and calibrated confidence), ``micro`` (sub-segments with a minimum size), ``traits`` and
``naming`` and ``profiles`` (segments and subscribers in words), ``identity`` (stable ids across
refits), ``similarity`` (response to content by segment), ``gates`` (promotion checks),
``pipeline`` (all of it in one picklable model).
"""

from .features import FEATURE_GROUPS, ProfileFeaturizer
from .gates import GateCheck, GateReport, check_gates
from .identity import IdentityMatch, match_segments, moved_between
from .macro import MacroSegmenter, choose_k
from .micro import MicroSegmenter, default_min_size
from .naming import SegmentTraits, build_names
from .pipeline import ASSIGNMENT_COLUMNS, SegmentationModel
from .profiles import PROFILE_COLUMNS, SegmentProfiler
from .schema import REQUIRED_COLUMNS, check_profiles
from .similarity import SegmentResponse
from .traits import TRAITS, trait_table

__all__ = [
    "ProfileFeaturizer", "FEATURE_GROUPS", "MacroSegmenter", "choose_k", "MicroSegmenter", "default_min_size",
    "SegmentProfiler", "PROFILE_COLUMNS", "SegmentTraits", "build_names", "TRAITS", "trait_table",
    "match_segments", "moved_between", "IdentityMatch", "SegmentResponse", "check_gates", "GateReport",
    "GateCheck", "SegmentationModel", "ASSIGNMENT_COLUMNS", "REQUIRED_COLUMNS", "check_profiles",
]
