"""The public API of Review and Screening, pinned as it was before they were split.

The two classes are composed of one module per section (store: protocol, sources and
records, maps, duplicates, decisions, extraction; screening: queue and refits, cards,
progress, dual review, exchange). These tests fail when a method, property or instance
attribute disappears, is renamed or changes its signature, so moving code between the
section modules cannot silently change what users call.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

#: Special methods that are part of what a user does with the object.
SPECIAL = ("__init__", "__enter__", "__exit__", "__len__", "__iter__", "__getitem__",
           "__repr__", "_repr_html_")


def api(cls: type) -> dict[str, str]:
    """Public methods, properties and class attributes of ``cls`` with their signatures."""
    out = {}
    for name in sorted(dir(cls)):
        if name.startswith("_") and name not in SPECIAL:
            continue
        owner = next(k for k in cls.__mro__ if name in vars(k))
        if owner is object:
            continue
        attr = vars(owner)[name]
        if isinstance(attr, property):
            setter = "(settable)" if attr.fset is not None else ""
            out[name] = f"property{setter} {inspect.signature(attr.fget)}"
        elif isinstance(attr, classmethod | staticmethod):
            kind = type(attr).__name__
            out[name] = f"{kind} {inspect.signature(attr.__func__)}"
        elif inspect.isfunction(attr):
            out[name] = f"method {inspect.signature(attr)}"
        else:
            out[name] = f"attribute {type(attr).__name__}"
    return out


def instance_attributes(obj: object) -> list[str]:
    """Public attributes an instance carries after ``__init__``."""
    return sorted(k for k in vars(obj) if not k.startswith("_"))

# Captured from main before the split (see the module docstring).
REVIEW_API = {
    "__enter__": "method (self) -> 'Review'",
    "__exit__": "method (self, *exc: 'object') -> 'None'",
    "__init__": "method (self, url: 'str', *, create: 'bool' = True) -> 'None'",
    "__repr__": "method (self) -> 'str'",
    "add_decision": (
        "method (self, record_id: 'str', stage: 'str', decision: 'str', *, "
        "reviewer: 'str', reason: 'str | None' = None, note: 'str | None' = None, "
        "actor: 'str' = 'human', kind: 'str' = 'screen') -> 'int'"
    ),
    "add_decisions": (
        "method (self, events: 'Iterable[Mapping[str, "
        "Any]] | pd.DataFrame') -> 'list[int]'"
    ),
    "add_pair_decision": (
        "method (self, record_id_1: 'str', record_id_2: 'str', decision: 'str', *, "
        "reviewer: 'str', note: 'str | None' = None) -> 'int'"
    ),
    "add_records": (
        "method (self, records: 'pd.DataFrame', *, source: 'Mapping[str, Any]', "
        "allow_duplicate: 'bool' = False) -> 'pd.DataFrame'"
    ),
    "close": "method (self) -> 'None'",
    "count": "method (self, table: 'str') -> 'int'",
    "decisions": (
        "method (self, *, stage: 'str | None' = None, "
        "reviewer: 'str | None' = None) -> 'pd.DataFrame'"
    ),
    "deduplicate": "method (self, **options: 'Any') -> 'DedupResult'",
    "duplicate_groups": "method (self, *, run_id: 'int | None' = None) -> 'pd.DataFrame'",
    "evidence_map": "method (self, *, source_id: 'str | None' = None) -> 'EvidenceMap'",
    "extraction_rows": "method (self) -> 'pd.DataFrame'",
    "import_file": (
        "method (self, path: 'str | os.PathLike[str]', *, database: 'str', "
        "kind: 'str' = 'database', platform: 'str | None' = None, "
        "searched_on: 'str | date | None' = None, query: 'str | None' = None, "
        "source_id: 'str | None' = None, format: 'str | None' = None, "
        "encoding: 'str | None' = None, columns: 'Mapping[str, str] | None' = None, "
        "header_row: 'int | None' = None, imported_by: 'str | None' = None, "
        "allow_duplicate: 'bool' = False) -> 'pd.DataFrame'"
    ),
    "import_map": (
        "method (self, path: 'str | os.PathLike[str]', *, "
        "database: 'str' = '3ie evidence gap map', kind: 'str' = 'previous_version', "
        "platform: 'str | None' = None, searched_on: 'str | date | None' = None, "
        "query: 'str | None' = None, source_id: 'str | None' = None, "
        "imported_by: 'str | None' = None, "
        "allow_duplicate: 'bool' = False) -> 'EvidenceMap'"
    ),
    "map_codes": "method (self) -> 'pd.DataFrame'",
    "map_framework": "method (self) -> 'pd.DataFrame'",
    "pair_decisions": "method (self, *, latest: 'bool' = True) -> 'pd.DataFrame'",
    "protocol": "property (self) -> 'Protocol | None'",
    "record_sources": "method (self) -> 'pd.DataFrame'",
    "records": "method (self, *, source_id: 'str | None' = None) -> 'pd.DataFrame'",
    "save_duplicate_groups": (
        "method (self, groups: 'pd.DataFrame', *, params: 'Mapping[str, "
        "Any] | None' = None) -> 'int'"
    ),
    "save_extraction_row": (
        "method (self, row_id: 'str', data: 'Mapping[str, Any]', *, study_id: 'str', "
        "extractor: 'str', expected_version: 'int | None' = None) -> 'int'"
    ),
    "schema_version": "property (self) -> 'int'",
    "protocol_files": "method (self) -> 'pd.DataFrame'",
    "set_protocol": (
        "method (self, protocol: 'Protocol', *, "
        "files: 'Mapping[str, tuple[str, str]] | None' = None) -> 'None'"
    ),
    "sources": "method (self) -> 'pd.DataFrame'",
    "status": "method (self) -> 'pd.DataFrame'",
}
SCREENING_API = {
    "__init__": (
        "method (self, review: 'Review', stage: 'str' = 'title_abstract', *, "
        "reviewer: 'str', ranker: 'Any' = None, "
        "rules: 'RuleSet | str | os.PathLike[str] | None' = None, "
        "criteria: 'Criteria | str | os.PathLike[str] | None' = None, "
        "stopping: 'Any' = None, blind: 'bool' = True, retrain_every: 'int' = 10, "
        "background: 'bool | str' = 'auto', random_state: 'int' = 0) -> 'None'"
    ),
    "__repr__": "method (self) -> 'str'",
    "adjudicate": (
        "method (self, record_id: 'str', decision: 'str', *, reviewer: 'str', "
        "reason: 'str | None' = None, note: 'str | None' = None) -> 'int'"
    ),
    "agreement": (
        "method (self, *, stage: 'str | None' = 'this', "
        "confidence: 'float' = 0.95) -> 'pd.DataFrame'"
    ),
    "apply_auto_exclusions": (
        "method (self, *, reviewer: 'str | None' = None) -> 'pd.DataFrame'"
    ),
    "close_at_stop": "method (self) -> 'pd.DataFrame'",
    "conflicts": "method (self) -> 'pd.DataFrame'",
    "decide": (
        "method (self, record_id: 'str', decision: 'str', *, "
        "reviewer: 'str | None' = None, reason: 'str | None' = None, "
        "note: 'str | None' = None) -> 'int'"
    ),
    "decisions_allowed": "property (self) -> 'tuple[str, ...]'",
    "events": "method (self, *, reviewer: 'str | None' = None) -> 'pd.DataFrame'",
    "export_decisions": (
        "method (self, path: 'str | os.PathLike[str]', *, "
        "all_reviewers: 'bool | None' = None) -> 'pd.DataFrame'"
    ),
    "hits": "method (self) -> 'RuleHits | None'",
    "import_decisions": (
        "method (self, path: 'str | os.PathLike[str]', *, "
        "reviewer: 'str | None' = None) -> 'pd.DataFrame'"
    ),
    "latest": "method (self, stage: 'str | None' = None) -> 'pd.DataFrame'",
    "my_decisions": "method (self) -> 'pd.DataFrame'",
    "next": "method (self, k: 'int' = 1) -> 'Cards'",
    "progress": "method (self) -> 'Progress'",
    "queue": "method (self) -> 'pd.DataFrame'",
    "reasons": "property (self) -> 'pd.DataFrame'",
    "records": "method (self) -> 'pd.DataFrame'",
    "refresh": "method (self) -> 'None'",
    "resolved": "method (self, stage: 'str | None' = None) -> 'pd.DataFrame'",
    "reviewers_per_record": "property (self) -> 'int'",
    "stop_check": "method (self, *, report: 'bool' = True) -> 'StopDecision'",
}
CARDS_API = {
    "__getitem__": "method (self, i: 'int') -> 'dict[str, Any]'",
    "__init__": "method (self, cards: 'list[dict[str, Any]]' = <factory>) -> None",
    "__iter__": "method (self) -> 'Iterator[dict[str, Any]]'",
    "__len__": "method (self) -> 'int'",
    "__repr__": "method (self) -> 'str'",
    "_repr_html_": "method (self) -> 'str'",
    "record_ids": "property (self) -> 'list[str]'",
    "summary": "method (self) -> 'str'",
    "to_frame": "method (self) -> 'pd.DataFrame'",
}
PROGRESS_API = {
    "__init__": (
        "method (self, stage: 'str', reviewer: 'str', n_records: 'int', "
        "n_auto_excluded: 'int', n_screened: 'int', n_included: 'int', n_excluded: 'int', "
        "n_maybe: 'int', n_conflicts: 'int | None', "
        "estimated_recall: 'float | None' = None, confidence: 'float | None' = None, "
        "stop: 'bool' = False, reviewers_per_record: 'int' = 1, n_started: 'int' = 0, "
        "n_covered: 'int' = 0, n_waiting: 'int' = 0) -> None"
    ),
    "__repr__": 'method (self)',
    "_repr_html_": "method (self) -> 'str'",
    "confidence": 'attribute NoneType',
    "estimated_recall": 'attribute NoneType',
    "fraction": "property (self) -> 'float'",
    "n_covered": 'attribute int',
    "n_remaining": "property (self) -> 'int'",
    "n_short": "property (self) -> 'int'",
    "n_started": 'attribute int',
    "n_waiting": 'attribute int',
    "reviewers_per_record": 'attribute int',
    "stop": 'attribute bool',
    "summary": "method (self) -> 'str'",
    "to_frame": "method (self) -> 'pd.DataFrame'",
}

REVIEW_ATTRIBUTES = ["engine", "url"]
SCREENING_ATTRIBUTES = ["background", "blind", "criteria", "ranker", "retrain_every",
                        "review", "reviewer", "rules", "stage", "stopping"]

#: Module -> names importable from it today (``__all__`` where the module has one).
IMPORTABLE = {
    "evidence_synth": ["open_review"],
    "evidence_synth.store": ["ACTORS", "SOURCE_KINDS", "STAGE_DECISIONS", "Review",
                             "open_review"],
    "evidence_synth.store.review": ["ACTORS", "SOURCE_KINDS", "STAGE_DECISIONS", "Review",
                                    "open_review"],
    "evidence_synth.screen": ["Cards", "Progress", "Screening"],
    "evidence_synth.screen.session": ["Cards", "Progress", "Screening"],
}
#: Public module constants that were importable without being in ``__all__``.
ALSO_IMPORTABLE = {"evidence_synth.screen.session": {"RELEVANT": {
    "include": 1, "maybe": 1, "exclude": 0, "retrieved": 1, "not_retrieved": 0}}}


def _classes() -> dict[str, type]:
    from evidence_synth.screen import Cards, Progress, Screening
    from evidence_synth.store import Review

    return {"Review": Review, "Screening": Screening, "Cards": Cards, "Progress": Progress}


@pytest.mark.parametrize("name, expected", [
    ("Review", REVIEW_API), ("Screening", SCREENING_API), ("Cards", CARDS_API),
    ("Progress", PROGRESS_API),
])
def test_public_methods_and_signatures_are_unchanged(name, expected):
    found = api(_classes()[name])
    assert sorted(set(expected) - set(found)) == [], "dropped or renamed"
    assert sorted(set(found) - set(expected)) == [], "new public names: pin them here"
    changed = {k: found[k] for k in expected if found[k] != expected[k]}
    assert changed == {}


def test_instance_attributes_are_unchanged(tmp_path):
    from evidence_synth.screen import Screening
    from evidence_synth.store import open_review

    with open_review(tmp_path / "review.db") as review:
        assert instance_attributes(review) == REVIEW_ATTRIBUTES
        session = Screening(review, reviewer="ana", ranker=False)
        assert instance_attributes(session) == SCREENING_ATTRIBUTES


@pytest.mark.parametrize("module", sorted(IMPORTABLE))
def test_names_stay_importable_from_where_they_were(module):
    loaded = importlib.import_module(module)
    for name in IMPORTABLE[module]:
        home = "screen" if name in ("Cards", "Progress", "Screening") else "store"
        assert getattr(loaded, name) is getattr(
            importlib.import_module(f"evidence_synth.{home}"), name)
    if module.endswith((".review", ".session")):
        assert sorted(loaded.__all__) == sorted(IMPORTABLE[module])
    for name, value in ALSO_IMPORTABLE.get(module, {}).items():
        assert getattr(loaded, name) == value


def test_the_pin_catches_a_dropped_method():
    class Smaller(_classes()["Screening"]):
        conflicts = None  # shadowed by a non-method

    assert api(Smaller)["conflicts"] == "attribute NoneType"
    assert api(Smaller)["conflicts"] != SCREENING_API["conflicts"]
