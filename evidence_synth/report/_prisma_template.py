"""Rows of the PRISMA2020 R package / Shiny app CSV (``inst/extdata/PRISMA.csv``).

The ``data``, ``node`` and ``box`` values and their order are those of the package's
template, so a file written here opens in ``PRISMA2020::PRISMA_data()`` and in the Shiny
app. ``boxtext`` holds the PRISMA 2020 box labels the package draws; the descriptions
are ours. ``None`` is written as ``NA``; the template leaves the organisations row's node
empty, and so do we.
"""

from __future__ import annotations

#: (data, node, box, boxtext, description)
TEMPLATE_ROWS: tuple[tuple[str | None, str | None, str, str, str], ...] = (
    (None, "node4", "prevstud", "Previous studies",
     "Title of the previous-version column"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review",
     "Studies included in the previous version of the review"),
    ("previous_reports", None, "box1",
     "Reports of studies included in previous version of review",
     "Reports of the studies included in the previous version"),
    (None, "node6", "newstud", "Identification of new studies via databases and registers",
     "Title of the databases and registers column"),
    ("database_results", "node7", "box2", "Databases",
     "Records identified from databases"),
    ("database_specific_results", None, "box2", "Specific Databases",
     "Records identified per database (name, n; ...)"),
    ("register_results", None, "box2", "Registers",
     "Records identified from registers"),
    ("register_specific_results", None, "box2", "Specific Registers",
     "Records identified per register (name, n; ...)"),
    (None, "node16", "othstud", "Identification of new studies via other methods",
     "Title of the other-methods column"),
    ("website_results", "node17", "box11", "Websites",
     "Records identified from websites (grey literature sources)"),
    ("organisation_results", "", "box11", "Organisations",
     "Records identified from organisations (sources of kind other)"),
    ("citations_results", None, "box11", "Citation searching",
     "Records identified by citation searching"),
    ("duplicates", "node8", "box3", "Duplicate records",
     "Duplicate records removed before screening"),
    ("excluded_automatic", None, "box3", "Records marked as ineligible by automation tools",
     "Records excluded by automation tools before screening"),
    ("excluded_other", None, "box3", "Records removed for other reasons",
     "Records removed before screening for other reasons"),
    ("records_screened", "node9", "box4", "Records screened",
     "Records screened on title and abstract (databases and registers)"),
    ("records_excluded", "node10", "box5", "Records excluded",
     "Records excluded at title and abstract (databases and registers)"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval",
     "Reports sought for retrieval (databases and registers)"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved",
     "Reports not retrieved (databases and registers)"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval",
     "Reports sought for retrieval (other methods)"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved",
     "Reports not retrieved (other methods)"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility",
     "Reports assessed for eligibility (databases and registers)"),
    ("dbr_excluded", "node14", "box9", "Reports excluded",
     "Reports excluded with reasons (databases and registers): reason, n; ..."),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility",
     "Reports assessed for eligibility (other methods)"),
    ("other_excluded", "node21", "box15", "Reports excluded",
     "Reports excluded with reasons (other methods): reason, n; ..."),
    ("new_studies", "node15", "box10", "New studies included in review",
     "New studies included in the review"),
    ("new_reports", None, "box10", "Reports of new included studies",
     "Reports of the new included studies"),
    ("total_studies", "node22", "box16", "Total studies included in review",
     "Studies included in the previous version plus new studies"),
    ("total_reports", None, "box16", "Reports of total included studies",
     "Reports of all included studies"),
    ("identification", "node1", "identification", "Identification",
     "Identification stage label"),
    ("screening", "node2", "screening", "Screening", "Screening stage label"),
    ("included", "node3", "included", "Included", "Included stage label"),
)

COLUMNS = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")

#: ``data`` values whose ``n`` is a list ("name, n; name, n") rather than a number.
LIST_ROWS = ("database_specific_results", "register_specific_results", "dbr_excluded",
             "other_excluded")
#: Rows that only title a column or a stage; their ``n`` is 0 in the template.
TITLE_ROWS = ("identification", "screening", "included")
