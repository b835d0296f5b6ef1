"""Small bundled example data (synthetic records); see ``README.md`` in this folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_dir() -> Path:
    """Folder of the bundled demo review (``migration_demo``).

    Returns
    -------
    pathlib.Path
        Holds ``scopus_search.ris``, ``wos_search.txt``, ``previous_map_3ie.html`` and
        ``labels.csv``.
    """
    return Path(str(resources.files(__package__) / "migration_demo"))


__all__ = ["demo_dir"]
