"""Bundled reviews and ``new_review``: a review folder ready to use, in one call."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from ..errors import EvidenceSynthError
from .files import ReviewFiles

#: The bundled review :func:`new_review` copies unless told otherwise.
DEFAULT_TEMPLATE = "irregular-migration-egm-update"

#: Where :func:`new_review` puts each file, relative to the new folder.
LAYOUT = {
    "protocol": "protocol.yaml",
    "criteria": "screening/criteria.yaml",
    "rules": "screening/rules.yaml",
    "form": "extraction/form.yaml",
    "codebook": "extraction/unintended-effects-codebook.yaml",
}
NOTEBOOK = "screening.ipynb"


def bundled_reviews() -> list[str]:
    """Names of the reviews shipped with the package (their protocol, criteria, rules,
    extraction form and codebook), e.g. ``irregular-migration-egm-update``."""
    root = Path(str(resources.files(__package__)))
    return sorted(p.parent.parent.name for p in root.glob("*/protocols/*.yaml")
                  if p.stem == p.parent.parent.name)


def bundled_review(name: str = DEFAULT_TEMPLATE) -> ReviewFiles:
    """The files of a bundled review, read from the installed package.

    Parameters
    ----------
    name : str
        One of :func:`bundled_reviews`.

    Returns
    -------
    ReviewFiles
    """
    if name not in bundled_reviews():
        raise EvidenceSynthError(f"no bundled review {name!r}; bundled: "
                                 f"{', '.join(bundled_reviews())}")
    root = Path(str(resources.files(__package__))) / name
    return ReviewFiles.from_protocol(root / "protocols" / f"{name}.yaml")


def new_review(folder: str | os.PathLike[str], *, template: str = DEFAULT_TEMPLATE
               ) -> ReviewFiles:
    """Write a new review folder from a bundled review, checked before it is kept.

    The folder gets ``protocol.yaml``, ``screening/criteria.yaml``,
    ``screening/rules.yaml``, ``extraction/form.yaml``,
    ``extraction/unintended-effects-codebook.yaml`` (the template's, with the references
    between them rewritten to the new layout), ``screening.ipynb`` (a notebook that opens
    ``review.db`` in the folder and screens it) and a ``README.md`` with the next steps.

    Parameters
    ----------
    folder : path-like
        Created; must not exist or be empty.
    template : str, default ``"irregular-migration-egm-update"``
        One of :func:`bundled_reviews`.

    Returns
    -------
    ReviewFiles
        The new folder's files, every one loaded and validated.

    Raises
    ------
    EvidenceSynthError
        When the folder exists and is not empty, or the template is unknown.
    """
    dest = Path(folder)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise EvidenceSynthError(f"{dest}: already exists and is not an empty folder; "
                                 "give a new folder for the review")
    source = bundled_review(template)
    moved = {role: LAYOUT.get(role) for role in source.paths}
    unknown = [role for role, rel in moved.items() if rel is None and role not in
               ("form_protocol", "form_codebook")]
    if unknown:  # pragma: no cover - a bundled review outside the layout
        raise EvidenceSynthError(f"bundled review {template!r}: no place for {unknown}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        for role, rel in moved.items():
            if rel is None:
                continue
            text = source.paths[role].read_text(encoding="utf-8")
            text = _relink(text, role, source, moved)
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        files = ReviewFiles.from_protocol(staging / LAYOUT["protocol"])
        files.check()
        (staging / NOTEBOOK).write_text(_notebook(files), encoding="utf-8")
        (staging / "README.md").write_text(_readme(dest, files), encoding="utf-8")
        if dest.exists():
            dest.rmdir()
        staging.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ReviewFiles.from_protocol(dest / LAYOUT["protocol"])


def _relink(text: str, role: str, source: ReviewFiles, moved: dict[str, str | None]) -> str:
    """Point a file's ``protocol:`` reference at the protocol's new place."""
    old_protocol = source.relative("protocol")
    new_protocol = moved["protocol"]
    assert new_protocol is not None
    if role == "criteria":  # root-relative
        old, new = old_protocol, new_protocol
    elif role == "form":  # relative to the form's folder
        here = Path(source.relative("form")).parent
        old = os.path.relpath(old_protocol, here).replace(os.sep, "/")
        there = Path(moved["form"] or "").parent
        new = os.path.relpath(new_protocol, there).replace(os.sep, "/")
    else:
        return text
    pattern = re.compile(rf"^(\s*protocol:\s*){re.escape(old)}(\s*(#.*)?)$", re.MULTILINE)
    relinked, count = pattern.subn(rf"\g<1>{new}\g<2>", text)
    if count != 1:  # pragma: no cover - a template that names its protocol differently
        raise EvidenceSynthError(f"{source.paths[role]}: expected one 'protocol: {old}' line, "
                                 f"found {count}")
    return relinked


def _cell(kind: str, text: str, **metadata: object) -> dict[str, object]:
    cell: dict[str, object] = {"cell_type": kind, "metadata": dict(metadata),
                               "source": text.strip("\n").splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _notebook(files: ReviewFiles) -> str:
    title = files.protocol.title
    cells = [
        _cell("markdown", f"""
# Title and abstract screening: {title}

This notebook opens the review store `review.db` in this folder (or the PostgreSQL review
your team shares) and screens it with the review's own criteria and keyword rules, as
stored in the review by `evidence-synth init ... --protocol protocol.yaml`. Set `REVIEWER`
to your name: every decision is written to the store at once, under that name.
"""),
        _cell("code", """
REVIEW = "review.db"   # or "postgresql+psycopg://ann@db.example.org/review"
REVIEWER = "your-name"
STAGE = "title_abstract"
""", tags=["parameters"]),
        _cell("code", """
from evidence_synth import open_review
from evidence_synth.reviews import ReviewFiles
from evidence_synth.screen import Screening, ScreeningWidget

review = open_review(REVIEW, create=False)
files = ReviewFiles.from_review(review)   # the protocol, criteria and rules stored with it
print("\\n".join(files.check()))
review.status()
"""),
        _cell("markdown", """
The session ranks the records nobody has decided yet (blind: your ranking and queue use
only your own decisions), highlights the rules' matches and offers the criteria's
exclusion reasons. The lead runs `session.apply_auto_exclusions()` once, before screening,
to write the exclusions the criteria allow a tool to make.
"""),
        _cell("code", """
session = Screening(review, STAGE, reviewer=REVIEWER, rules=files.rules,
                    criteria=files.criteria)
session.progress()
"""),
        _cell("markdown", """
The screener: include / exclude / maybe buttons, the reason list, a note box and a
progress bar with the stopping estimate. Keys: `i` include, `e` exclude, `m` maybe,
`1`-`9` reason, `s` skip, `b` back.
"""),
        _cell("code", "ScreeningWidget(session)"),
        _cell("markdown", """
When the ranking has flattened, ask the stopping rule whether screening may stop; it
prints the records screened, the estimated recall with its confidence, and what stays
unscreened.
"""),
        _cell("code", "session.stop_check()"),
    ]
    notebook = {"cells": cells, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    for n, cell in enumerate(cells):
        cell["id"] = f"cell-{n:02d}"
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _readme(dest: Path, files: ReviewFiles) -> str:
    name = dest.name
    return f"""# {files.protocol.title}

Review folder made by `evidence-synth new-review` from the bundled review
`{files.protocol.review_id}`. Edit the files, then start the review store:

| file | what |
|---|---|
| `protocol.yaml` | question, eligibility, framework, sources, stages, exclusion reasons |
| `screening/criteria.yaml` | criteria per stage, reasons, auto-exclusions; names the rules |
| `screening/rules.yaml` | keyword rules that highlight matches and tag framework nodes |
| `extraction/form.yaml` | the extraction form (the Excel template is generated from it) |
| `extraction/unintended-effects-codebook.yaml` | codes for unintended effects |
| `screening.ipynb` | opens `review.db` here and screens it |

```bash
evidence-synth init {name}/review.db --protocol {name}/protocol.yaml
evidence-synth import {name}/review.db scopus.ris --database Scopus --searched-on 2025-10-06
evidence-synth dedup --review {name}/review.db --queue-out {name}/dedup-queue.csv
jupyter lab {name}/screening.ipynb
evidence-synth report {name}/review.db --out {name}/report
```

`init` stores the protocol with a copy of the criteria, rules, form and codebook; `screen`,
`extract` and the notebook use those copies. After editing a file, store the new version:
`evidence-synth set-protocol {name}/review.db {name}/protocol.yaml`.
"""
