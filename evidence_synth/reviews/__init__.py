"""Review folders: a protocol and the screening and extraction files it names.

:class:`ReviewFiles` finds and loads a review's protocol, screening criteria, keyword
rules, extraction form and codebook, stores them in a review store and reads them back
from it; :func:`bundled_review` gives the reviews shipped with the package (the
irregular-migration EGM update) and :func:`new_review` writes a new review folder from
one of them.
"""

from .files import ROLES, ReviewFiles
from .scaffold import DEFAULT_TEMPLATE, bundled_review, bundled_reviews, new_review

__all__ = ["DEFAULT_TEMPLATE", "ROLES", "ReviewFiles", "bundled_review", "bundled_reviews",
           "new_review"]
