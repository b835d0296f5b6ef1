"""A review's files: its protocol and the criteria, rules, form and codebook it names."""

from __future__ import annotations

import os
import tempfile
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..errors import ProtocolError, StoreError
from ..protocol import Protocol, load_protocol
from ..schema_validation import read_yaml

if TYPE_CHECKING:
    from ..extract.form import Codebook, ExtractionForm
    from ..screen.criteria import Criteria
    from ..screen.rules import RuleSet
    from ..store import Review

#: What each stored file is, in the order they are named.
ROLES = ("protocol", "criteria", "rules", "form", "codebook", "form_protocol",
         "form_codebook")


class ReviewFiles:
    """A review protocol and the files it names, found from the review's root folder.

    The protocol names ``screening.criteria``, ``extraction.form`` and
    ``extraction.codebook`` by paths relative to the review's *root* folder, which holds
    ``screening/`` and ``extraction/`` (the repository of the migration review keeps its
    protocol in ``protocols/``; a folder made by :func:`new_review` keeps ``protocol.yaml``
    at its root): the nearest folder, from the protocol's own upwards, where those paths
    exist. The criteria name their keyword rules (``rules``) relative to the same root;
    the form names its codebook and its protocol relative to itself.

    Build it with :meth:`from_protocol` (files on disk) or :meth:`from_review` (the copies
    stored in a review store with its protocol); :meth:`store` stores them.

    Parameters
    ----------
    protocol_path : path-like
        The protocol YAML.

    Attributes
    ----------
    protocol : Protocol
    protocol_path : pathlib.Path
    root : pathlib.Path
        The review's root folder.
    paths : dict
        ``role -> absolute path`` of every named file (roles in :data:`ROLES`), the
        protocol included.

    Raises
    ------
    ProtocolError
        When the protocol or the criteria name a file that does not exist, naming the
        file, the key that names it and where it was looked for.
    """

    def __init__(self, protocol_path: str | os.PathLike[str]) -> None:
        self.protocol: Protocol = load_protocol(protocol_path)
        self.protocol_path = Path(protocol_path).resolve()
        self._keep: Any = None
        data = self.protocol.to_dict()
        named = {role: value for role, value in (
            ("criteria", data.get("screening", {}).get("criteria")),
            ("form", data.get("extraction", {}).get("form")),
            ("codebook", data.get("extraction", {}).get("codebook")),
        ) if value}
        self.root = _find_root(self.protocol_path, named)
        self.paths: dict[str, Path] = {"protocol": self.protocol_path}
        self.paths.update({role: self.root / rel for role, rel in named.items()})
        if self.criteria is not None and self.criteria.rules:
            self.paths["rules"] = self._existing(self.root, self.criteria.rules,
                                                 self.paths["criteria"], "rules")
        if "form" in self.paths:
            form = _read_mapping(self.paths["form"])
            folder = self.paths["form"].parent
            for role, key, value in (
                ("form_codebook", "codebook", form.get("codebook")),
                ("form_protocol", "framework.protocol",
                 (form.get("framework") or {}).get("protocol")),
            ):
                if value:
                    self.paths[role] = self._existing(folder, value, self.paths["form"], key)
        for role, path in self.paths.items():
            if not path.resolve().is_relative_to(self.root):
                raise ProtocolError(f"{path}: the {role} file is outside the review's root "
                                    f"folder {self.root}; keep every review file under it")

    @classmethod
    def from_protocol(cls, path: str | os.PathLike[str]) -> ReviewFiles:
        """The files of the review whose protocol is ``path`` (see the class)."""
        return cls(path)

    @classmethod
    def from_review(cls, review: Review) -> ReviewFiles:
        """The protocol and files stored in ``review`` (by :meth:`store`).

        They are written to a temporary folder that lives as long as the returned object
        and loaded from there, so the review's own copies are used wherever it is opened.

        Raises
        ------
        StoreError
            When the review has no protocol, or its protocol names files that were not
            stored with it (a protocol stored by ``review.set_protocol`` alone or by an
            older version): store them with ``evidence-synth set-protocol``.
        """
        protocol = review.protocol
        if protocol is None:
            raise StoreError(f"{review!r}: no protocol stored; store one with "
                             "`evidence-synth set-protocol REVIEW PROTOCOL.yaml`")
        stored = review.protocol_files()
        if "protocol" not in set(stored["role"]):
            named = _named_files(protocol)
            if not named:
                return _without_files(protocol)
            raise StoreError(
                f"{review!r}: the review's protocol names {', '.join(named)} but the store "
                "holds no copy of them (the protocol was stored without its files); store "
                "them with `evidence-synth set-protocol REVIEW PROTOCOL.yaml`, or pass the "
                "files explicitly")
        keep = tempfile.TemporaryDirectory(prefix="es-review-files-")
        root = Path(keep.name)
        for row in stored.itertuples():
            target = root / PurePosixPath(row.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(row.content, encoding="utf-8")
        own = stored.set_index("role").loc["protocol", "path"]
        files = cls(root / PurePosixPath(own))
        files._keep = keep
        if files.protocol.sha256 != protocol.sha256:
            raise StoreError(f"{review!r}: the stored protocol file {own} does not match the "
                             "review's protocol snapshot; store it again with "
                             "`evidence-synth set-protocol`")
        return files

    # -- the loaded files ------------------------------------------------------------

    @cached_property
    def criteria(self) -> Criteria | None:
        """The screening criteria (``screening.criteria``), or ``None`` if not named."""
        from ..screen.criteria import load_criteria

        return load_criteria(self.paths["criteria"]) if "criteria" in self.paths else None

    @cached_property
    def rules(self) -> RuleSet | None:
        """The keyword rules the criteria name (``rules``), or ``None``."""
        from ..screen.rules import load_rules

        return load_rules(self.paths["rules"]) if "rules" in self.paths else None

    @cached_property
    def form(self) -> ExtractionForm | None:
        """The extraction form (``extraction.form``) with its codebook, or ``None``."""
        from ..extract.form import load_form

        return load_form(self.paths["form"]) if "form" in self.paths else None

    @cached_property
    def codebook(self) -> Codebook | None:
        """The unintended-effects codebook (``extraction.codebook``), or ``None``."""
        from ..extract.form import load_codebook

        return load_codebook(self.paths["codebook"]) if "codebook" in self.paths else None

    def check(self) -> list[str]:
        """Load and validate every file; one summary line per file.

        Raises
        ------
        ProtocolError
            With every problem of the first file that has any.
        """
        lines = [f"protocol {self.relative('protocol')}: {self.protocol.review_id} "
                 f"(sha256 {self.protocol.sha256[:12]})"]
        if self.criteria is not None:
            stages = ", ".join(self.criteria.stages)
            lines.append(f"criteria {self.relative('criteria')}: stages {stages}")
        if self.rules is not None:
            lines.append(f"rules {self.relative('rules')}: {len(self.rules)} rules")
        if self.form is not None:
            fields = {level: len(names) for level, names in self.form.fields.items()}
            lines.append(f"form {self.relative('form')}: {self.form.id}, "
                         + ", ".join(f"{n} {level} fields" for level, n in fields.items()))
        if self.codebook is not None:
            lines.append(f"codebook {self.relative('codebook')}: "
                         f"{len(self.codebook.codes)} codes")
        return lines

    # -- paths and storage -----------------------------------------------------------

    def relative(self, role: str) -> str:
        """Path of a named file relative to the root, with forward slashes."""
        return self.paths[role].resolve().relative_to(self.root).as_posix()

    def texts(self) -> dict[str, tuple[str, str]]:
        """``role -> (path relative to the root, text)`` of every named file."""
        return {role: (self.relative(role), path.read_text(encoding="utf-8"))
                for role, path in self.paths.items()}

    def store(self, review: Review) -> None:
        """Store the protocol and a copy of every named file in ``review`` (one snapshot)."""
        review.set_protocol(self.protocol, files=self.texts())

    @staticmethod
    def _existing(folder: Path, value: str, named_in: Path, key: str) -> Path:
        path = folder / value
        if not path.is_file():
            raise ProtocolError(f"{named_in}: {key} names {value!r}, not found at "
                                f"{os.path.normpath(path)}")
        return path

    def __repr__(self) -> str:
        named = ", ".join(f"{role}={self.relative(role)}" for role in self.paths)
        return f"ReviewFiles(root={str(self.root)!r}, {named})"


def _named_files(protocol: Protocol) -> list[str]:
    data = protocol.to_dict()
    return [value for value in (data.get("screening", {}).get("criteria"),
                                data.get("extraction", {}).get("form"),
                                data.get("extraction", {}).get("codebook")) if value]


def _without_files(protocol: Protocol) -> ReviewFiles:
    """ReviewFiles of a stored protocol that names no files (written to a temporary root)."""
    keep = tempfile.TemporaryDirectory(prefix="es-review-files-")
    path = Path(keep.name) / "protocol.yaml"
    path.write_text(protocol.to_yaml(), encoding="utf-8")
    files = ReviewFiles(path)
    files._keep = keep
    return files


def _find_root(protocol_path: Path, named: dict[str, str]) -> Path:
    """The protocol's folder or the nearest parent where every named path exists."""
    folders = [protocol_path.parent, *protocol_path.parent.parents]
    if not named:
        return folders[0]
    for folder in folders:
        if all((folder / rel).is_file() for rel in named.values()):
            return folder
    missing = next(((role, rel) for role, rel in named.items()
                    if not any((f / rel).is_file() for f in folders)), None)
    key = {"criteria": "screening.criteria", "form": "extraction.form",
           "codebook": "extraction.codebook"}
    if missing:
        role, rel = missing
        raise ProtocolError(
            f"{protocol_path}: {key[role]} names {rel!r}, not found under "
            f"{protocol_path.parent} or any folder above it (paths in the protocol are "
            "relative to the review's root folder, which holds screening/ and extraction/)")
    raise ProtocolError(f"{protocol_path}: the files it names ({', '.join(named.values())}) "
                        "are not all under one folder; keep them under the review's root")


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        data = read_yaml(path)[0]  # aliases expanded within the limits
    except OSError as exc:
        raise ProtocolError(f"{path}: cannot read as YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ProtocolError(f"{path}: expected a mapping at the top of the file")
    return data
