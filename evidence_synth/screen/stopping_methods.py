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
    "sneyd_stevenson_or_callaghan_muller_hansen",
    "sneyd_stevenson",
    "callaghan_muller_hansen",
    "knee",
    "none",
)
DEFAULT_STOPPING_METHOD = "sneyd_stevenson_or_callaghan_muller_hansen"


def stopping_rule(
    method: str = DEFAULT_STOPPING_METHOD,
    *,
    target_recall: float = 0.95,
    confidence: float = 0.95,
) -> StoppingRule | None:
    """The stopping rule a protocol method names (None for ``"none"``).

    ``"sneyd_stevenson_or_callaghan_muller_hansen"`` (the default) stops when either the
    Poisson-process rule (power rate, :class:`PoissonProcessStop`) or the hypergeometric
    test (:class:`HypergeometricStop`) says the target is reached: the Poisson rule
    needs 20 relevant records and 30 % of the pool screened, the hypergeometric test
    decides below that. ``"sneyd_stevenson"`` and ``"callaghan_muller_hansen"`` are each
    rule alone, ``"knee"`` is :class:`KneeStop` (no recall target), ``"none"`` screens
    everything.

    Raises
    ------
    EvidenceSynthError
        For an unknown method.
    """
    if method == "none":
        return None
    if method == "knee":
        return KneeStop()
    hypergeometric = HypergeometricStop(target_recall, confidence)
    poisson = PoissonProcessStop(target_recall, confidence, rate="power")
    rules: dict[str, StoppingRule] = {
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
        ``stopping_rule`` mapping itself (``method``, ``target_recall``, ``confidence``).
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
                         confidence=spec.get("confidence", 0.95))


def default_stopping_rule() -> StoppingRule:
    """The default rule, chosen on four Cohen sets (see docs/screening-models.md).

    ``PoissonProcessStop(0.95, 0.95, rate="power") | HypergeometricStop(0.95, 0.95)``:
    :func:`stopping_rule` with ``"sneyd_stevenson_or_callaghan_muller_hansen"``.
    """
    rule = stopping_rule(DEFAULT_STOPPING_METHOD)
    assert rule is not None
    return rule
