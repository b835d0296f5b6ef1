"""A seeded synthetic set of hard deduplication cases built from real records.

    python benchmarks/hard_cases.py --half 0 --seed 1 --out tuning.csv   # to tune on
    python benchmarks/hard_cases.py --half 1 --seed 2 --out report.csv   # to report on

Sources (read from ``../shared/data``, never copied): every record of the export corpus
(``exports/``, 2,281 records read with ``evidence_synth.io.read_records``) and the treaty
titles of the GAPs inventory (``migration/gaps_international_cooperation__gap-project.json``,
237 instruments). Records with the same normalised title or DOI are collapsed to one work;
titles that differ by a misprint are not, so the base may keep a duplicate of its own (the
report half has one: two exports of a 1965 entomology note, "wood-pecker, Picoides" and
"woodpecker, Pieoides", which the engine rightly merges and the truth counts as wrong).
The works are split into two halves by a hash of their normalised title (stable, not
seeded): the tuning set uses one half, the report set the other, so no source record is
in both.

From the base works of its half, with ``numpy.random.default_rng(seed)``, the set holds
every base work once plus these cases (``case`` column; ``true_group`` is the work,
``true_study`` the study when versions and notices are counted once):

1. ``recurring``: a journal's column heading ("Editorial", "Reply", "Viewpoint", ...) given
   to 2-4 different items of one journal, by one editor, over one to three years, with
   their own issues and pages, pages or DOIs missing at random (hard negatives); and the
   same item exported twice, once with and once without pages (hard positives). Half of
   the headings are used only in the tuning set, the other half only in the report set.
2. ``entity``: two titles that differ only in a named entity (a country, region or
   language from the treaty titles, a country swapped into a real article title), a year,
   an edition or a part number (hard negatives), and the same treaty or article written
   as another database would (case, punctuation, "Republic of" dropped, the former name
   of the country; hard positives).
3. ``pdf``: a reference as GROBID extracts it from a PDF (upper case, a footnote digit
   after the title, no year, DOI or pages, initials only, middle initials dropped or an
   author added, the journal abbreviated) paired with its database record (hard
   positives); and a different article of the same first author in the same journal and
   volume whose title shares half its words (hard negatives).
4. ``notice``: an erratum, correction, retraction notice, comment or reply carrying the
   article's title (and, for errata, its pages), in the same journal a year later: a
   separate record whose study is the article's.
5. ``conference``: the conference paper of a journal article (same title and authors, a
   year earlier, in proceedings): a separate record whose study is the article's.
6. ``variant``: the article as another database exports it (case, punctuation, missing
   DOI, pages or abstract, abbreviated journal; hard positives that must stay easy).

Rules and thresholds were chosen on the labelled development sets and on the tuning set
(half 0, seed 1); the report set (half 1, seed 2) was built once, after that, and its
figures are the held-out ones of round one. Round three's rules were chosen on the
development sets and the tuning set only; the fresh set (half 1, seed 3: the report
half's works, new draws of every case) was built once, by the final benchmark run, with
the code frozen. Round four looked at the queues of the report and fresh sets (seeds 2
and 3) while choosing its rules; its own fresh set (half 1, seed 4) was built once, by
round four's final benchmark run, with the code frozen.

    python benchmarks/hard_cases.py --half 1 --seed 3 --out fresh.csv    # round three
    python benchmarks/hard_cases.py --half 1 --seed 4 --out fresh4.csv   # round four
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evidence_synth.columns import records_from_dicts  # noqa: E402
from evidence_synth.dedup._normalise import norm_doi, norm_title  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
GAPS = SHARED / "migration" / "gaps_international_cooperation__gap-project.json"
EXPORTS = SHARED / "exports"

HEADINGS = (
    # tuning half
    ("Editorial", "Letter to the editor", "Reply", "Corrigendum", "Preface",
     "Issues and opinions", "Annual report", "From the editor", "Book review",
     "Viewpoint", "Research note", "President's message"),
    # report half
    ("Editor's comments", "Remarks from the editor", "Guest editorial", "Response",
     "Introduction to the special issue", "Foreword", "Erratum", "In memoriam",
     "Perspective", "Year in review", "Commentary", "Acknowledgement to reviewers"),
)
NOTICE_PREFIXES = ("Erratum to: ", "Correction: ", "Retraction note: ", "Retracted: ",
                   "Comment on: ", "Reply to: ", "Corrigendum to \"", "Expression of concern: ")
STOP = {"of", "and", "the", "for", "in", "on", "a", "an", "to", "de"}
COUNTRIES = ("Kenya", "Uganda", "Ghana", "Nigeria", "Ethiopia", "Morocco", "Tunisia",
             "Türkiye", "Armenia", "Georgia", "Albania", "Serbia", "Pakistan", "Bangladesh",
             "Mexico", "Guatemala", "Honduras", "Brazil", "India", "Viet Nam", "Germany",
             "Greece", "Croatia", "Poland", "Italy", "Spain", "Jordan", "Lebanon", "Iraq",
             "Afghanistan", "Senegal", "Niger", "Mali", "Sweden", "Norway")


def half_of(key: str) -> int:
    """Which half (0 or 1) a normalised title belongs to: a stable hash, not a seed."""
    return hashlib.sha1(key.encode()).digest()[0] % 2


def base_works(half: int) -> pd.DataFrame:
    """Distinct real works of one half: export records, then treaty titles."""
    from evidence_synth.io import read_records

    frames = [read_records(f) for f in sorted(EXPORTS.iterdir()) if f.suffix != ".md"]
    exports = pd.concat(frames, ignore_index=True)
    rows = [{"title": r.title, "authors": list(r.authors), "year": r.year,
             "journal": r.journal, "volume": r.volume, "issue": r.issue, "pages": r.pages,
             "doi": r.doi, "abstract": r.abstract, "origin": "export"}
            for r in exports.itertuples()]
    for country in json.loads(GAPS.read_text(encoding="utf-8")):
        for policy in country["policies"]:
            title = " ".join(str(policy.get("policyName") or "").split())
            date = str(policy.get("signatureDate") or "")
            year = int(date[:4]) if date[:4].isdigit() else None
            rows.append({"title": title, "authors": [], "year": year, "journal": None,
                         "volume": None, "issue": None, "pages": None, "doi": None,
                         "abstract": None, "origin": "treaty"})
    base = pd.DataFrame(rows)
    base = base[base["title"].fillna("").str.len() >= 10].copy()
    base["key"] = base["title"].map(lambda t: norm_title(t).replace(" ", ""))
    base["doi_n"] = base["doi"].map(norm_doi)
    base = base.drop_duplicates("key")
    base = base[(base["doi_n"] == "") | ~base["doi_n"].duplicated()]
    base = base[base["key"].map(half_of) == half].reset_index(drop=True)
    return base.drop(columns=["doi_n"])


def _abbrev(journal: str) -> str:
    words = [w for w in re.split(r"[\s.,:;-]+", journal) if w and w.lower() not in STOP]
    return " ".join(w[:4] if len(w) > 4 else w for w in words)


def _initials(name: str) -> str:
    """"Surname, Given Middle" -> "Surname G" (middle initials dropped)."""
    if "," in name:
        surname, given = (s.strip() for s in name.split(",", 1))
        return f"{surname} {given[:1]}".strip()
    return name


class _Builder:
    def __init__(self, base: pd.DataFrame, seed: int, half: int) -> None:
        self.base = base
        self.rng = np.random.default_rng(seed)
        self.half = half
        self.rows: list[dict] = []
        self.n_works = 0

    def work(self) -> str:
        self.n_works += 1
        return f"w{self.n_works}"

    def add(self, case: str, group: str, study: str | None = None, **fields) -> None:
        rid = f"h{len(self.rows)}"
        row = {"record_id": rid, "case": case, "true_group": group,
               "true_study": study or group}
        row.update(fields)
        self.rows.append(row)

    def record(self, k: int) -> dict:
        r = self.base.iloc[k]
        return {c: None if _missing(r[c]) else r[c]
                for c in ("title", "authors", "year", "journal", "volume", "issue", "pages",
                          "doi", "abstract")}

    def pick(self, mask: np.ndarray, n: int) -> list[int]:
        """Up to ``n`` base works where ``mask``, never one turned into numbered variants."""
        idx = np.setdiff1d(np.flatnonzero(mask), self.numbered)
        return sorted(self.rng.choice(idx, size=min(n, len(idx)), replace=False).tolist())

    # -- the base works, each once (but those that became numbered variants)
    def bases(self, consumed: set[int]) -> dict[int, str]:
        groups = {}
        for k in range(len(self.base)):
            groups[k] = self.work()
            if k not in consumed:
                self.add("base", groups[k], **self.record(k))
        return groups

    def recurring(self, n: int) -> None:
        journals = self.base[self.base["journal"].notna() & self.base["authors"].map(bool)]
        for heading_k, k in enumerate(self.pick(self.base.index.isin(journals.index), n)):
            r = self.record(k)
            heading = HEADINGS[self.half][heading_k % len(HEADINGS[self.half])]
            editor = r["authors"][:1]
            year = int(r["year"]) if pd.notna(r["year"]) else 2010
            n_items = int(self.rng.integers(2, 5))
            for item in range(n_items):
                group = self.work()
                first = int(self.rng.integers(1, 900))
                fields = {"title": heading, "authors": editor,
                          "year": year + int(self.rng.integers(0, 3)) if item else year,
                          "journal": r["journal"], "volume": r["volume"],
                          "issue": str(item + 1), "pages": f"{first}-{first + 2}",
                          "doi": f"10.9999/rec.{self.half}.{k}.{item}"}
                if self.rng.random() < 0.5:
                    fields["pages"] = None
                if self.rng.random() < 0.5:
                    fields["doi"] = None
                if self.rng.random() < 0.3:
                    fields["issue"] = None
                self.add("recurring", group, **fields)
                if item == 0:  # the same item from a second database, without its pages
                    twin = dict(fields, pages=None, title=heading.upper())
                    self.add("recurring", group, **twin)

    def entity(self, n: int) -> None:
        named = re.compile(r"\b(" + "|".join(re.escape(c) for c in COUNTRIES) + r")\b")
        treaties = np.flatnonzero(self.base["title"].map(lambda t: bool(named.search(t))))
        mask = np.zeros(len(self.base), bool)
        mask[treaties] = True
        keys = set(self.base["key"])
        for k in self.pick(mask, n):
            r = self.record(k)
            found = named.findall(r["title"])
            others = [c for c in COUNTRIES if c not in found]
            new = others[int(self.rng.integers(len(others)))]
            title = re.sub(rf"\b{re.escape(found[0])}\b", new, r["title"])
            if norm_title(title).replace(" ", "") in keys:
                continue  # the swap gave the title of a real work
            self.add("entity", self.work(), **dict(r, title=title, doi=None))
            variant = r["title"].upper() if self.rng.random() < 0.5 else \
                r["title"].replace("Republic of ", "").replace("Türkiye", "Turkey")
            self.add("entity", self._group_of(k), **dict(r, title=variant, doi=None))
        for k in self.numbered:
            r = self.record(k)
            kind = int(self.rng.integers(3))
            if kind == 0:
                year = int(self.rng.integers(1990, 2020))
                a, b = f"{r['title']}, {year}", f"{r['title']}, {year + 1}"
            elif kind == 1:
                a, b = f"{r['title']}: second edition", f"{r['title']}: third edition"
            else:
                a, b = f"{r['title']}. Part 1", f"{r['title']}. Part 2"
            self.add("entity", self.work(), **dict(r, title=a, doi=None, pages=None))
            self.add("entity", self.work(), **dict(r, title=b, doi=None, pages=None))

    def pdf(self, n: int) -> None:
        ok = (self.base["journal"].notna() & self.base["volume"].notna()
              & self.base["authors"].map(bool)).to_numpy()
        for k in self.pick(ok, n):
            r = self.record(k)
            authors = [_initials(a) for a in r["authors"]]
            if self.rng.random() < 0.3:
                authors.append("Smith J")
            title = r["title"].upper() if self.rng.random() < 0.6 else r["title"]
            if self.rng.random() < 0.5:
                title += str(int(self.rng.integers(1, 4)))
            self.add("pdf", self._group_of(k), title=title, authors=authors, year=None,
                     journal=_abbrev(r["journal"]), volume=r["volume"], issue=None,
                     pages=None, doi=None, abstract=None)
            other = self.base["title"].iloc[int(self.rng.integers(len(self.base)))].split()
            words = r["title"].split()
            spliced = " ".join(words[: max(2, len(words) // 2)] + other[len(other) // 2:])
            self.add("pdf", self.work(), title=spliced.upper(), authors=authors[:1],
                     year=None, journal=_abbrev(r["journal"]), volume=r["volume"],
                     issue=None, pages=None, doi=None, abstract=None)

    def notice(self, n: int) -> None:
        ok = (self.base["journal"].notna() & self.base["origin"].eq("export")).to_numpy()
        for k in self.pick(ok, n):
            r = self.record(k)
            prefix = NOTICE_PREFIXES[int(self.rng.integers(len(NOTICE_PREFIXES)))]
            title = prefix + r["title"] + ('"' if prefix.endswith('"') else "")
            pages = r["pages"] if prefix.startswith(("Erratum", "Correction", "Corrigendum")) \
                else str(int(self.rng.integers(1, 999)))
            year = int(r["year"]) + 1 if pd.notna(r["year"]) else None
            authors = r["authors"] if not prefix.startswith(("Comment", "Reply")) else \
                ["Critic, Anne"]
            self.add("notice", self.work(), study=self._group_of(k), title=title,
                     authors=authors, year=year, journal=r["journal"], volume=r["volume"],
                     issue=None, pages=pages, doi=None, abstract=None)

    def conference(self, n: int) -> None:
        ok = (self.base["journal"].notna() & self.base["authors"].map(bool)
              & self.base["origin"].eq("export")).to_numpy()
        for k in self.pick(ok, n):
            r = self.record(k)
            year = int(r["year"]) - 1 if pd.notna(r["year"]) else None
            venue = f"Proceedings of the {int(self.rng.integers(2, 40))}th International " \
                    f"Conference on {' '.join(r['title'].split()[-2:]).title()}"
            first = int(self.rng.integers(1, 500))
            self.add("conference", self.work(), study=self._group_of(k), title=r["title"],
                     authors=r["authors"], year=year, journal=venue, volume=None, issue=None,
                     pages=f"{first}-{first + 9}", doi=None, abstract=None)

    def variant(self, n: int) -> None:
        for k in self.pick(self.base["origin"].eq("export").to_numpy(), n):
            r = self.record(k)
            title = r["title"]
            if self.rng.random() < 0.4:
                title = title.lower()
            if self.rng.random() < 0.4:
                title = title.replace(":", " -").rstrip(".") + "."
            fields = dict(r, title=title)
            for col, share in (("doi", 0.4), ("pages", 0.3), ("abstract", 0.5)):
                if self.rng.random() < share:
                    fields[col] = None
            if r["journal"] and self.rng.random() < 0.5:
                fields["journal"] = _abbrev(r["journal"])
            self.add("variant", self._group_of(k), **fields)

    def _group_of(self, k: int) -> str:
        return self.groups[k]


def hard_cases(*, half: int, seed: int, n: int = 120) -> pd.DataFrame:
    """The synthetic hard-case set of one half (see the module docstring).

    Returns a records-contract frame with ``case``, ``true_group`` and ``true_study``.
    """
    base = base_works(half)
    b = _Builder(base, seed, half)
    b.numbered = []
    b.numbered = b.pick(base["origin"].to_numpy() == "export", n // 2)
    b.groups = b.bases(set(b.numbered))
    b.recurring(n)
    b.entity(n)
    b.pdf(n)
    b.notice(n)
    b.conference(n)
    b.variant(n)
    extra = pd.DataFrame([{k: v for k, v in r.items() if k in ("record_id", "case",
                                                                 "true_group", "true_study")}
                          for r in b.rows])
    records = records_from_dicts([{k: (None if _missing(v) else v) for k, v in r.items()
                                   if k not in ("case", "true_group", "true_study")}
                                  for r in b.rows])
    for col in ("case", "true_group", "true_study"):
        records[col] = extra[col].to_numpy()
    return records


def pair_outcomes(records: pd.DataFrame, result) -> pd.DataFrame:
    """Per case, what became of its true pairs and of its compared hard-negative pairs.

    Columns ``case``, ``kind`` (``duplicate pairs`` or ``hard negatives``), ``pairs``,
    ``merged`` (same group in the end), ``queued`` (pair in the review queue),
    ``held back`` (neither) and, for notices and conference papers, ``linked`` (same
    study). A true pair belongs to the case of its non-base record; a compared pair of
    two works belongs to the case of a record that is not a base record (if any).
    """
    case = dict(zip(records["record_id"], records["case"], strict=True))
    group = dict(zip(records["record_id"], records["true_group"], strict=True))
    study = dict(zip(records["record_id"], records["true_study"], strict=True))
    out_group = dict(zip(result.groups["record_id"], result.groups["group_id"], strict=True))
    out_study = dict(zip(result.groups["record_id"], result.groups["study_id"], strict=True))
    queued = {tuple(sorted(p)) for p in zip(result.review_queue()["record_id_1"],
                                            result.review_queue()["record_id_2"], strict=True)}
    rows = []
    by_group = records.groupby("true_group")["record_id"].apply(list)
    for members in by_group[by_group.map(len) > 1]:
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                a, b = sorted((members[x], members[y]))
                rows.append((_case_of(case[a], case[b]), "duplicate pairs", a, b))
    compared = result.pairs[["record_id_1", "record_id_2"]].to_numpy()
    for a, b in compared:
        if group[a] != group[b] and (case[a] != "base" or case[b] != "base"):
            rows.append((_case_of(case[a], case[b]), "hard negatives", *sorted((a, b))))
    frame = pd.DataFrame(rows, columns=["case", "kind", "a", "b"]).drop_duplicates()
    frame["merged"] = [out_group[a] == out_group[b] for a, b in zip(frame.a, frame.b,
                                                                    strict=True)]
    frame["queued"] = [(a, b) in queued for a, b in zip(frame.a, frame.b, strict=True)]
    frame["linked"] = [out_study[a] == out_study[b] and study[a] == study[b]
                       for a, b in zip(frame.a, frame.b, strict=True)]
    frame["same_study"] = [study[a] == study[b] for a, b in zip(frame.a, frame.b, strict=True)]
    frame["held back"] = ~frame["merged"] & ~frame["queued"]
    table = frame.groupby(["case", "kind"]).agg(
        pairs=("a", "size"), merged=("merged", "sum"), queued=("queued", "sum"),
        held_back=("held back", "sum"), same_study=("same_study", "sum"),
        linked=("linked", "sum")).reset_index()
    return table.rename(columns={"held_back": "held back", "same_study": "one study"})


def _case_of(x: str, y: str) -> str:
    return y if x == "base" else x


def _missing(value) -> bool:
    if isinstance(value, list):
        return False
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", type=int, choices=(0, 1), required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    records = hard_cases(half=args.half, seed=args.seed)
    out = records.drop(columns=["raw"], errors="ignore").copy()
    out["authors"] = out["authors"].map("; ".join)
    out.to_csv(args.out, index=False)
    print(records["case"].value_counts().to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
