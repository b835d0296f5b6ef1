"""Screening: criteria and rules, ranking, stopping, simulation, dual review, notebooks.

- Criteria and rules as data: :func:`load_criteria`, :func:`load_rules`,
  :func:`apply_rules` (tags, highlight spans, allowed auto-exclusions), :func:`highlight_html`.
- Ranking: :class:`ScreeningRanker` (scikit-learn estimator; cold start from the criteria
  text and rule hits, explanations).
- Stopping: :class:`PoissonProcessStop` (Sneyd & Stevenson 2019, 2021),
  :class:`HypergeometricStop` (Callaghan & Müller-Hansen 2020), the default of either
  (:func:`default_stopping_rule`), :class:`KneeStop`, :class:`NIrrelevantInARow`,
  :class:`AnyOf`, :class:`AllOf`; :func:`stopping_rule_from_protocol`.
- Simulation and metrics: :func:`simulate` -> :class:`SimulationResult`,
  :func:`screening_metrics`.
- Agreement: :func:`agreement`, :func:`agreement_table`, :func:`screening_agreement`
  (Cohen's kappa, PABAK, Gwet's AC1 with CIs).
- Notebooks: :class:`Screening` sessions and the ipywidgets :class:`ScreeningWidget`.
"""

from .agreement import AgreementResult, agreement, agreement_table, screening_agreement
from .criteria import Criteria, load_criteria
from .metrics import erf, recall_at, screening_metrics, wss
from .ranking import ScreeningRanker, record_text
from .rules import (
    RecordHits,
    Rule,
    RuleHits,
    RuleSet,
    Span,
    apply_rules,
    highlight_html,
    load_rules,
)
from .session import Cards, Progress, Screening
from .simulate import SimulationResult, simulate
from .stopping import (
    AllOf,
    AnyOf,
    HypergeometricStop,
    KneeStop,
    NIrrelevantInARow,
    ScreeningState,
    StopDecision,
    StoppingRule,
    replay_stopping,
)
from .stopping_methods import default_stopping_rule, stopping_rule, stopping_rule_from_protocol
from .stopping_poisson import PoissonProcessStop
from .widget import ScreeningWidget

__all__ = [
    "AgreementResult",
    "AllOf",
    "AnyOf",
    "Cards",
    "Criteria",
    "HypergeometricStop",
    "KneeStop",
    "NIrrelevantInARow",
    "PoissonProcessStop",
    "Progress",
    "RecordHits",
    "Rule",
    "RuleHits",
    "RuleSet",
    "Screening",
    "ScreeningRanker",
    "ScreeningState",
    "ScreeningWidget",
    "SimulationResult",
    "Span",
    "StopDecision",
    "StoppingRule",
    "agreement",
    "agreement_table",
    "apply_rules",
    "default_stopping_rule",
    "erf",
    "highlight_html",
    "load_criteria",
    "load_rules",
    "recall_at",
    "record_text",
    "replay_stopping",
    "screening_agreement",
    "screening_metrics",
    "simulate",
    "stopping_rule",
    "stopping_rule_from_protocol",
    "wss",
]
