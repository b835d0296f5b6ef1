"""The stopping rules a protocol names (``screening.stopping_rule``), and the default.

:func:`stopping_rule` builds the rule of a method name, :func:`stopping_rule_from_protocol`
reads it from a protocol, :func:`default_stopping_rule` is the library's default.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import EvidenceSynthError
from .stopping import AnyOf, HypergeometricStop, KneeStop, StoppingRule
from .stopping_poisson import PoissonProcessStop

#: Methods of the protocol's ``screening.stopping_rule`` and the rules they build.
STOPPING_METHODS = (
    "sneyd_stevenson_calibrated",
    "sneyd_stevenson_or_callaghan_muller_hansen",
    "sneyd_stevenson",
    "callaghan_muller_hansen",
    "knee",
    "none",
)
DEFAULT_STOPPING_METHOD = "sneyd_stevenson_calibrated"
#: Poisson quantile of the calibrated rule, chosen on the four tuning sets
#: (docs/screening-models.md, "Stopping rules, same runs").
CALIBRATED_QUANTILE = 0.8


def stopping_rule(
    method: str = DEFAULT_STOPPING_METHOD,
    *,
    target_recall: float = 0.95,
    confidence: float | None = None,
    random_sample_after: int | None = None,
) -> StoppingRule | None:
    """The stopping rule a protocol method names (None for ``"none"``).

    ``"sneyd_stevenson_calibrated"`` (the default) is the Poisson-process rule with a
    power rate (:class:`PoissonProcessStop`) whose quantile of the expected number of
    relevant records is calibrated: 0.8 (``CALIBRATED_QUANTILE``) instead of 0.95 kept
    recall at or above 0.95 in every run on the four tuning sets, with 10 windows and the
    authors' other settings (20 relevant records and 30 % of the pool screened before it
    may stop). Its safety is empirical (the runs it was calibrated and measured on), not
    a proof. ``"sneyd_stevenson"`` is the same rule at the 95 % quantile, and
    ``"callaghan_muller_hansen"`` the hypergeometric test (:class:`HypergeometricStop`);
    ``"sneyd_stevenson_or_callaghan_muller_hansen"`` stops when either of them says the
    target is reached (the previous default). ``"knee"`` is :class:`KneeStop` (no recall
    target), ``"none"`` screens everything.

    Parameters
    ----------
    method : str
    target_recall : float, default 0.95
    confidence : float, optional
        Confidence level of the test, or the Poisson quantile; default 0.95, and
        ``CALIBRATED_QUANTILE`` for the calibrated method.
    random_sample_after : int, optional
        For ``"callaghan_muller_hansen"`` only: the paper's two-phase workflow, where
        ranked screening runs until this many irrelevant records in a row, then the
        unscreened records are drawn at random and the test uses that random sample only
        (``HypergeometricStop(sample_after=n)``; no assumption about the ranking).
        Without it the test uses ranked quasi-sampling.

    Raises
    ------
    EvidenceSynthError
        For an unknown method, or ``random_sample_after`` with another method.
    """
    if random_sample_after is not None and method != "callaghan_muller_hansen":
        raise EvidenceSynthError(
            "random_sample_after applies to the callaghan_muller_hansen method only, "
            f"found method {method!r}")
    if method == "none":
        return None
    if method == "knee":
        return KneeStop()
    level = 0.95 if confidence is None else confidence
    hypergeometric = HypergeometricStop(target_recall, level,
                                        sample_after=random_sample_after)
    poisson = PoissonProcessStop(target_recall, level, rate="power")
    rules: dict[str, StoppingRule] = {
        "sneyd_stevenson_calibrated": PoissonProcessStop(
            target_recall, CALIBRATED_QUANTILE if confidence is None else confidence,
            rate="power"),
        "callaghan_muller_hansen": hypergeometric,
        "sneyd_stevenson": poisson,
        "sneyd_stevenson_or_callaghan_muller_hansen": AnyOf(poisson, hypergeometric),
    }
    if method not in rules:
        raise EvidenceSynthError(
            f"expected a stopping method in {list(STOPPING_METHODS)}, found {method!r}")
    return rules[method]


def stopping_rule_from_protocol(protocol: object = None) -> StoppingRule | None:
    """The stopping rule of a protocol's ``screening.stopping_rule`` (None: screen all).

    Parameters
    ----------
    protocol : Protocol, mapping or None
        A :class:`~evidence_synth.protocol.Protocol`, a protocol mapping, or the
        ``stopping_rule`` mapping itself (``method``, ``target_recall``, ``confidence``,
        ``random_sample_after``).
        Without a protocol or a ``stopping_rule`` entry: :func:`default_stopping_rule`.

    Returns
    -------
    StoppingRule or None
        None when the method is ``"none"``.
    """
    data = protocol.to_dict() if hasattr(protocol, "to_dict") else protocol
    if data is None:
        return default_stopping_rule()
    if not isinstance(data, Mapping):
        raise EvidenceSynthError(
            f"expected a Protocol or a mapping, found {type(protocol).__name__}")
    spec = data.get("screening", {}).get("stopping_rule") if "method" not in data else data
    if spec is None:
        return default_stopping_rule()
    if not isinstance(spec, Mapping) or "method" not in spec:
        raise EvidenceSynthError(
            f"expected screening.stopping_rule to be a mapping with a 'method', found {spec!r}")
    return stopping_rule(spec["method"],
                         target_recall=spec.get("target_recall", 0.95),
                         confidence=spec.get("confidence"),
                         random_sample_after=spec.get("random_sample_after"))


def default_stopping_rule() -> StoppingRule:
    """The default rule, calibrated on four Cohen sets (see docs/screening-models.md).

    ``PoissonProcessStop(0.95, 0.8, rate="power")``: :func:`stopping_rule` with
    ``"sneyd_stevenson_calibrated"``.
    """
    rule = stopping_rule(DEFAULT_STOPPING_METHOD)
    assert rule is not None
    return rule
