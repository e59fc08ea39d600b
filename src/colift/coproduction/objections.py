"""The lifecycle of a written objection (异议处理, domain.md §1-§2), as a table of legal moves.

An objection is raised OPEN and escalates through negotiation (协商), mediation (调解) and a
hearing (听证); steps may be skipped forward but never taken back. From any unresolved state it
can be withdrawn or resolved. Only a hearing (or a court) overrules it; an overruled objector may
sue, and the court's decision ends the litigation as resolved, withdrawn or overruled.
WITHDRAWN and RESOLVED are final: an owner who objects again files a new objection.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from colift.errors import RuleViolation
from colift.model.voting import OBJECTION_STATUS_NAMES_ZH, ObjectionStatus

_S = ObjectionStatus

STATUS_NAMES_ZH: Mapping[ObjectionStatus, str] = OBJECTION_STATUS_NAMES_ZH

# The order the statuses are listed in messages: the way an objection escalates.
_ORDER: tuple[ObjectionStatus, ...] = (
    _S.OPEN,
    _S.NEGOTIATION,
    _S.MEDIATION,
    _S.HEARING,
    _S.LITIGATION,
    _S.WITHDRAWN,
    _S.RESOLVED,
    _S.OVERRULED,
)

MOVES: Mapping[ObjectionStatus, frozenset[ObjectionStatus]] = {
    _S.OPEN: frozenset({_S.NEGOTIATION, _S.MEDIATION, _S.HEARING, _S.WITHDRAWN, _S.RESOLVED}),
    _S.NEGOTIATION: frozenset({_S.MEDIATION, _S.HEARING, _S.WITHDRAWN, _S.RESOLVED}),
    # Guangzhou: negotiation, then street or town people's mediation, then a civil suit.
    _S.MEDIATION: frozenset({_S.HEARING, _S.LITIGATION, _S.WITHDRAWN, _S.RESOLVED}),
    _S.HEARING: frozenset({_S.LITIGATION, _S.WITHDRAWN, _S.RESOLVED, _S.OVERRULED}),
    # The court decides: the objector wins (resolved), gives up (withdrawn) or loses (overruled).
    _S.LITIGATION: frozenset({_S.WITHDRAWN, _S.RESOLVED, _S.OVERRULED}),
    # An overruled objector may still go to court.
    _S.OVERRULED: frozenset({_S.LITIGATION}),
    _S.WITHDRAWN: frozenset(),
    _S.RESOLVED: frozenset(),
}

FINAL: frozenset[ObjectionStatus] = frozenset(s for s, nxt in MOVES.items() if not nxt)


def status_label(status: ObjectionStatus) -> str:
    """Chinese then English name, e.g. "调解中 mediation"."""
    return f"{STATUS_NAMES_ZH[status]} {status.value}"


def _labels(statuses: Iterable[ObjectionStatus]) -> str:
    chosen = set(statuses)
    return ", ".join(status_label(s) for s in _ORDER if s in chosen)


def allowed_moves(status: ObjectionStatus) -> frozenset[ObjectionStatus]:
    """The statuses an objection in `status` may move to next."""
    return MOVES[ObjectionStatus(status)]


def can_move(current: ObjectionStatus, target: ObjectionStatus) -> bool:
    return ObjectionStatus(target) in allowed_moves(current)


def check_move(current: ObjectionStatus, target: ObjectionStatus) -> None:
    """Raise RuleViolation unless `current` → `target` is a legal step, naming the legal ones."""
    current, target = ObjectionStatus(current), ObjectionStatus(target)
    if target in MOVES[current]:
        return
    if current is target:
        raise RuleViolation(
            "the objection is already {value}",
            STATUS_NAMES_ZH=STATUS_NAMES_ZH[current],
            value=current.value,
        )
    if current in FINAL:
        raise RuleViolation(
            "the objection is {value}, which is final: an owner who objects again files a new objection",
            removeprefix=STATUS_NAMES_ZH[current].removeprefix("已"),
            value=current.value,
        )
    raise RuleViolation(
        "an objection cannot go from {value} to {value2}: from {status_label} it may go to {labels}",
        STATUS_NAMES_ZH=STATUS_NAMES_ZH[current],
        STATUS_NAMES_ZH2=STATUS_NAMES_ZH[target],
        value=current.value,
        value2=target.value,
        status_label=status_label(current),
        labels=_labels(MOVES[current]),
    )


def route(current: ObjectionStatus, target: ObjectionStatus) -> tuple[ObjectionStatus, ...]:
    """The shortest chain of legal moves from `current` to `target` (excluding `current`).

    For records that report only where an objection ended up, e.g. an import of past cases:
    walking the chain keeps every step in the ledger. Raises RuleViolation if none exists.
    """
    current, target = ObjectionStatus(current), ObjectionStatus(target)
    if current is target:
        return ()
    came_from: dict[ObjectionStatus, ObjectionStatus] = {}
    queue = deque([current])
    while queue:
        here = queue.popleft()
        for nxt in sorted(MOVES[here], key=_ORDER.index):
            if nxt in came_from or nxt is current:
                continue
            came_from[nxt] = here
            if nxt is target:
                path = [nxt]
                while came_from[path[-1]] is not current:
                    path.append(came_from[path[-1]])
                return tuple(reversed(path))
            queue.append(nxt)
    check_move(current, target)  # raises with the message that explains why
    raise AssertionError("unreachable")  # pragma: no cover
