"""The demo: the whole pipeline on the bundled example review (``evidence-synth demo``).

Import the previous map and two database exports, deduplicate (a simulated person answers
the review queue), screen titles/abstracts with two simulated reviewers, rule
auto-exclusions, a conflict and its adjudication, retrieve and screen full texts, extract
effect sizes and unintended effects, pool them and write the report. The simulated people
decide from ``labels.csv`` (the truth of the synthetic example); everything they decide is
written to the review store as events, exactly as a real team's decisions would be.
"""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .datasets import demo_dir
from .dedup import find_duplicates, merge_duplicates
from .errors import DataQualityWarning
from .extract import EvidenceTable
from .protocol import Protocol
from .report import build_report, prisma_counts
from .reviews import ReviewFiles, bundled_review
from .screen import Screening
from .spreadsheet import write_csv
from .store import Review, open_review

_SEARCHES = (
    ("scopus-update", "scopus_search.ris", "Scopus", "Elsevier Scopus", "2025-10-06"),
    ("wos-update", "wos_search.txt", "Web of Science Core Collection", "Clarivate",
     "2025-10-07"),
)
_REVIEWERS = ("alice", "bob")
_ADJUDICATOR = "carol"
#: One record on which bob, in the demo, disagrees with alice (carol adjudicates).
_CONFLICT_KEY = "demo-18"


@dataclass
class DemoResult:
    """What the demo wrote.

    Attributes
    ----------
    out_dir : pathlib.Path
    review : str
        Path of the review store the demo built.
    files : list of pathlib.Path
        Every output file.
    """

    out_dir: Path
    review: str
    files: list[Path] = field(default_factory=list)


def run_demo(out_dir: str | Path, *, echo: Callable[[str], object] = print) -> DemoResult:
    """Run import, deduplication, screening, extraction and reporting on the example.

    Parameters
    ----------
    out_dir : path-like
        Folder for the review store and every output; an earlier demo there is replaced.
    echo : callable, default print
        Receives one line per step.

    Returns
    -------
    DemoResult
    """
    files = bundled_review("irregular-migration-egm-update")
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    result = DemoResult(out_dir=out, review=str(out / "review.db"))
    labels = pd.read_csv(demo_dir() / "labels.csv", dtype={"ft_reason": "string",
                                                           "ta_reason": "string"})
    labels = labels.set_index("study_key")
    protocol = files.protocol
    with open_review(result.review) as review:
        files.store(review)
        emap = _import_sources(review, protocol, echo)
        result.files += _deduplicate(review, protocol, labels, out, echo)
        result.files += _screen(review, files, labels, out, echo)
        evidence = _extract(review, files, echo)
        report = build_report(review, out / "report", evidence=evidence, previous_map=emap)
        result.files += report.written
        for line in prisma_counts(review).summary().splitlines():
            echo(line)
        status = out / "status.csv"
        write_csv(review.status(), status)
        result.files.append(status)
    result.files.append(Path(result.review))
    echo(f"report: {out / 'report' / 'index.html'}")
    return result


def _import_sources(review: Review, protocol: Protocol, echo: Callable[[str], object]):
    data = demo_dir()
    queries = protocol.sources_frame().set_index("source_id")["query"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        emap = review.import_map(data / "previous_map_3ie.html", source_id="3ie-egm",
                                 database="3ie EGM: Addressing Root Causes and Drivers of "
                                          "Irregular Migration", imported_by="demo")
    echo(f"imported the previous map: {len(emap.records)} studies, "
         f"{len(emap.framework)} framework nodes, {len(emap.codes)} codes")
    for warning in caught:
        echo(f"  warning: {Path(str(warning.message).split(': ', 1)[0]).name}: "
             f"{str(warning.message).split(': ', 1)[-1]}")
    for source_id, name, database, platform, searched_on in _SEARCHES:
        frame = review.import_file(data / name, database=database, platform=platform,
                                   searched_on=searched_on, source_id=source_id,
                                   query=queries.get(source_id), imported_by="demo")
        echo(f"imported {len(frame)} records from {name} ({database}, "
             f"{frame.attrs.get('format', '?')})")
    return emap


def _deduplicate(review: Review, protocol: Protocol, labels: pd.DataFrame, out: Path,
                 echo: Callable[[str], object]) -> list[Path]:
    records = review.records()
    versions = protocol.to_dict().get("dedup", {}).get("versions", "link")
    first = find_duplicates(records, versions=versions)
    queue = first.review_queue()
    keys = _study_keys(records)
    for pair in queue.itertuples():
        same = keys.get(pair.record_id_1) == keys.get(pair.record_id_2)
        review.add_pair_decision(pair.record_id_1, pair.record_id_2,
                                 "match" if same else "distinct", reviewer="dedup-checker",
                                 note="demo: answered from the example's truth")
    result = find_duplicates(records, versions=versions,
                             manual_decisions=review.pair_decisions())
    groups = result.groups
    run_id = review.save_duplicate_groups(groups, params={"versions": versions})
    merged = merge_duplicates(records, result)
    files = [out / "dedup_pairs.csv", out / "dedup_review_queue.csv", out / "merged_records.csv"]
    write_csv(result.pairs, files[0])
    write_csv(queue, files[1])
    write_csv(merged.drop(columns=["raw"], errors="ignore"), files[2])
    echo(f"deduplication run {run_id}: {len(records)} records -> {groups['group_id'].nunique()} "
         f"groups; {len(queue)} uncertain pair(s) answered by a person")
    return files


def _screen(review: Review, files: ReviewFiles, labels: pd.DataFrame, out: Path,
            echo: Callable[[str], object]) -> list[Path]:
    criteria, rules = files.criteria, files.rules
    sessions = {who: Screening(review, "title_abstract", reviewer=who, rules=rules,
                               criteria=criteria) for who in _REVIEWERS}
    auto = sessions["alice"].apply_auto_exclusions()
    echo(f"title/abstract: {len(auto)} record(s) excluded by the criteria's rules")
    keys = _study_keys(review.records())
    for who, session in sessions.items():
        while True:
            cards = session.next(5)
            if not cards.record_ids:
                break
            for record_id in cards.record_ids:
                truth = labels.loc[keys[record_id]]
                include = bool(truth["ta_include"])
                if who == "bob" and keys[record_id] == _CONFLICT_KEY:
                    include = not include
                session.decide(record_id, "include" if include else "exclude",
                               reason=None if include else _ta_reason(truth))
        stop = session.stop_check(report=False)
        echo(f"title/abstract, {who}: {session.progress().n_screened} screened; "
             f"stopping rule: {stop.report().splitlines()[0]}")
    # reviewers screen blind; the lead sees everyone's decisions in a session that is not
    lead = Screening(review, "title_abstract", reviewer=_ADJUDICATOR, blind=False, rules=rules,
                     criteria=criteria, ranker=False)
    conflicts = lead.conflicts()
    for row in conflicts[~conflicts["adjudicated"]].itertuples():
        truth = labels.loc[keys[row.record_id]]
        include = bool(truth["ta_include"])
        lead.adjudicate(row.record_id, "include" if include else "exclude",
                        reviewer=_ADJUDICATOR, reason=None if include else _ta_reason(truth))
    echo(f"title/abstract: {len(conflicts)} conflict(s) adjudicated by {_ADJUDICATOR}")
    files = [out / "agreement_title_abstract.csv", out / "decisions_title_abstract.csv"]
    write_csv(lead.agreement(), files[0])
    lead.export_decisions(files[1])

    retrieval = Screening(review, "retrieval", reviewer="alice", ranker=False,
                          criteria=criteria)
    for record_id in retrieval.records()["record_id"]:
        got = bool(labels.loc[keys[record_id], "retrieved"])
        retrieval.decide(record_id, "retrieved" if got else "not_retrieved",
                         reason=None if got else "RT_NOT_RETRIEVED")
    for who in _REVIEWERS:
        full_text = Screening(review, "full_text", reviewer=who, ranker=False,
                              criteria=criteria)
        for record_id in full_text.records()["record_id"]:
            truth = labels.loc[keys[record_id]]
            include = bool(truth["ft_include"])
            full_text.decide(record_id, "include" if include else "exclude",
                             reason=None if include else str(truth["ft_reason"]))
    echo(f"full text: {len(full_text.records())} report(s) assessed by two reviewers")
    return files


def _extract(review: Review, files: ReviewFiles, echo: Callable[[str], object]
             ) -> EvidenceTable:
    """Effect sizes of six studies (extraction example) and the coding of the others."""
    data = demo_dir()
    example = EvidenceTable.from_csv(data.parent / "extraction_example.csv",
                                     studies=data.parent / "extraction_example-studies.csv",
                                     form=files.form)
    coding = pd.read_csv(data / "coding.csv", dtype=str, keep_default_na=False)
    studies = {s["study_id"]: s for s in example.studies}
    rows = example.rows
    for n, row in enumerate(coding.itertuples()):
        studies.setdefault(row.study_key, {
            "study_id": row.study_key, "citation": row.citation, "year": int(row.year),
            "design": row.design, "countries": row.countries.split("; "),
            "confidence": row.confidence})
        rows.append({key: value for key, value in {
            "study_id": row.study_key, "estimate_id": f"coding.{n + 1}",
            "intervention": row.intervention, "outcome": row.outcome,
            "outcome_wording": "coded from the abstract", "outcome_type": "qualitative",
            "effect_class": row.effect_class, "harm_category": row.harm_category,
            "affected": row.affected and [row.affected], "direction": row.direction,
        }.items() if value})
    keys = _study_keys(review.records())
    for study in studies.values():
        study["record_ids"] = sorted(r for r, k in keys.items() if k == study["study_id"])
    table = EvidenceTable(rows, studies=list(studies.values()), form=example.form).compute()
    table.save(review, extractor="alice")
    echo(f"extraction: {len(table.to_frame())} rows from {len(table.studies)} studies; "
         f"every computed effect recomputes from its stored inputs: {table.verify().empty}")
    return table


def _study_keys(records: pd.DataFrame) -> dict[str, str]:
    """The example's study key of each record, from its accession number or DOI."""
    text = records["accession"].fillna("") + " " + records["doi"].fillna("")
    found = text.str.extract(r"DEMO0*(\d+)|es-demo\.(\d+)", flags=re.IGNORECASE)
    number = found[0].fillna(found[1])
    return {rid: f"demo-{int(n):02d}" for rid, n in zip(records["record_id"], number,
                                                        strict=True) if isinstance(n, str)}


def _ta_reason(truth: pd.Series) -> str:
    reason = truth.get("ta_reason")
    return str(reason) if isinstance(reason, str) and reason else "TA_INTERVENTION"
