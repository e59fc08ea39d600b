"""The unit's influence network (simulation.md): who talks to whom, who could lead opinion.

Nodes are households (rooms). Edges join neighbours across the landing and up and down the
same stack, recorded kin, friend and Party ties, fellow Party members, and the flats a resident
leader has visited. The same graph feeds opinion-leader candidates, the households nobody has
reached, and the row-stochastic W of the Friedkin–Johnsen dynamics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import networkx as nx
import numpy as np
from scipy import sparse

from colift.coproduction.heterogeneity import SUPPORT_THRESHOLD, reached_rooms
from colift.coproduction.snapshot import HouseholdView, UnitSnapshot
from colift.model import Tenure
from colift.model.coproduction import Stance

# Edge weights (assumptions to calibrate): the landing is the closest everyday contact.
SAME_FLOOR_WEIGHT = 1.0
ADJACENT_FLOOR_WEIGHT = 0.5
PARTY_GROUP_WEIGHT = 0.7  # fellow members of the building Party group meet in its activities
VISIT_WEIGHT = 0.8  # a resident leader's recorded talk with a household
TIE_WEIGHTS: Mapping[str, float] = {"kin": 1.5, "friend": 1.0, "party": 1.0, "conversation": 0.8}
DEFAULT_TIE_WEIGHT = 1.0  # a tie of a kind not listed above

# Opinion-leader score = CENTRALITY_SHARE × centrality + (1 − CENTRALITY_SHARE) × trust (assumption).
CENTRALITY_SHARE = 0.6
TRUST_BASE = 0.5
TRUST_PARTY = 0.2  # Party members are trusted to vouch for a collective project
TRUST_ELDER = 0.1  # an elderly owner-occupier stands in for a long-time resident
TRUST_STANCE: Mapping[Stance, float] = {
    Stance.SUPPORT: 0.2,
    Stance.LEAN_SUPPORT: 0.1,
    Stance.UNDECIDED: 0.0,
    Stance.UNKNOWN: 0.0,
    Stance.LEAN_OPPOSE: -0.1,
    Stance.OPPOSE: -0.2,
}
STANCE_WORDS: Mapping[Stance, str] = {
    Stance.SUPPORT: "supports",
    Stance.LEAN_SUPPORT: "leans to support",
    Stance.UNDECIDED: "undecided",
    Stance.UNKNOWN: "stance unknown",
    Stance.LEAN_OPPOSE: "leans against",
    Stance.OPPOSE: "opposes",
}
REACH_HOPS = 2  # two-step flow: a supporter's or leader's word travels at most two hops


def door(room: str, floor: int) -> str | None:
    """The stack a flat sits in: '301' on floor 3 → '01'; None when the room does not parse."""
    m = re.fullmatch(rf"{floor}[-_]?(\d{{1,3}})", room.strip())
    return m.group(1) if m else None


def _link(graph: nx.Graph, a: str, b: str, weight: float, kind: str) -> None:
    """Add weight to the edge a–b; several sources of contact add up."""
    if a == b or weight <= 0:
        return
    if graph.has_edge(a, b):
        data = graph.edges[a, b]
        data["weight"] += weight
        if kind not in data["kinds"]:
            data["kinds"].append(kind)
    else:
        graph.add_edge(a, b, weight=weight, kinds=[kind])


def influence_network(snapshot: UnitSnapshot) -> nx.Graph:
    """Households and who influences whom, with summed edge weights and the kinds of contact."""
    graph = nx.Graph()
    reached = reached_rooms(snapshot)
    leader_rooms = {ld.room for ld in snapshot.leaders if ld.room}
    for h in snapshot.households:
        graph.add_node(
            h.room,
            floor=h.floor,
            stance=h.stance.value,
            support=h.stance.score,
            tenure=h.tenure.value,
            lives_here=h.lives_here,
            party=h.party_member,
            elderly=h.elderly,
            reached=h.room in reached,
            leader=h.room in leader_rooms,
        )
    # Nobody lives in absentee or developer-held flats: no landing or stair contact.
    living = [h for h in snapshot.households if h.lives_here]
    for x, y in combinations(living, 2):
        if x.floor == y.floor:
            _link(graph, x.room, y.room, SAME_FLOOR_WEIGHT, "same_floor")
        elif abs(x.floor - y.floor) == 1:
            dx, dy = door(x.room, x.floor), door(y.room, y.floor)
            if dx is None or dy is None or dx == dy:
                _link(graph, x.room, y.room, ADJACENT_FLOOR_WEIGHT, "adjacent_floor")
    known = set(snapshot.rooms)
    for tie in snapshot.ties:
        if tie.a in known and tie.b in known:
            base = TIE_WEIGHTS.get(tie.kind, DEFAULT_TIE_WEIGHT)
            _link(graph, tie.a, tie.b, base * tie.weight, tie.kind)
    party = [h.room for h in living if h.party_member]
    for a, b in combinations(party, 2):
        _link(graph, a, b, PARTY_GROUP_WEIGHT, "party_group")
    _add_visits(graph, snapshot, known)
    return graph


def _add_visits(graph: nx.Graph, snapshot: UnitSnapshot, known: set[str]) -> None:
    """Edges from a resident leader's flat to the flats their activities targeted, once a pair."""
    by_person = {
        ld.person_id: ld.room for ld in snapshot.leaders if ld.room and ld.person_id is not None
    }
    by_name = {ld.name: ld.room for ld in snapshot.leaders if ld.room}
    seen: set[tuple[str, str]] = set()
    for activity in snapshot.activities:
        if activity.on > snapshot.today or not activity.targets:
            continue
        home = by_person.get(activity.person_id) if activity.person_id is not None else None
        home = home or by_name.get(activity.actor_name)
        if home is None or home not in known:
            continue
        for target in activity.targets:
            pair = (home, target)
            if target in known and pair not in seen:
                seen.add(pair)
                _link(graph, home, target, VISIT_WEIGHT, "visit")


# ---------------------------------------------------------------- opinion leaders


@dataclass(frozen=True)
class Candidate:
    """A household whose resident could act as opinion leader (意见领袖), and why."""

    room: str
    score: float
    centrality: float
    trust: float
    reasons: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "score": round(self.score, 3),
            "centrality": round(self.centrality, 3),
            "trust": round(self.trust, 3),
            "reasons": list(self.reasons),
        }


def centrality(graph: nx.Graph) -> dict[str, float]:
    """Weighted eigenvector centrality per component, scaled so a hub of the whole unit gets 1.

    Each component's values are divided by its largest and multiplied by (|C| − 1)/(n − 1):
    the hub of a component spanning the unit reaches more households than the hub of a pair.
    Degree centrality stands in where the power iteration does not converge.
    """
    n = graph.number_of_nodes()
    out: dict[str, float] = {str(room): 0.0 for room in graph.nodes}
    if n < 2:
        return out
    for members in nx.connected_components(graph):
        if len(members) < 2:
            continue
        sub = graph.subgraph(members)
        try:
            raw = nx.eigenvector_centrality(sub, max_iter=1000, tol=1e-8, weight="weight")
        except (nx.PowerIterationFailedConvergence, nx.NetworkXError):
            raw = dict(sub.degree(weight="weight"))
        top = max(float(v) for v in raw.values())
        scale = (len(members) - 1) / (n - 1)
        for room, value in raw.items():
            out[str(room)] = float(value) / top * scale if top > 0 else 0.0
    return out


def _trust(h: HouseholdView) -> tuple[float, list[str]]:
    trust, why = TRUST_BASE, []
    if h.party_member:
        trust += TRUST_PARTY
        why.append("Party member")
    if h.elderly and h.tenure is Tenure.OWNER_OCCUPIED:
        trust += TRUST_ELDER
        why.append("elderly owner-occupier")
    trust += TRUST_STANCE[h.stance]
    return min(1.0, max(0.0, trust)), why


def opinion_leader_candidates(
    snapshot: UnitSnapshot, graph: nx.Graph | None = None, k: int = 3
) -> list[Candidate]:
    """The k households living here best placed to persuade neighbours, highest score first."""
    g = influence_network(snapshot) if graph is None else graph
    cent = centrality(g)
    leaders = {ld.room for ld in snapshot.leaders if ld.room}
    found = []
    for h in snapshot.households:
        if not h.lives_here or h.room not in g:
            continue
        if h.stance in (Stance.OPPOSE, Stance.LEAN_OPPOSE):
            continue  # someone against the lift does not lead others to it
        c = cent.get(h.room, 0.0)
        trust, why = _trust(h)
        ties = int(g.degree(h.room))
        why.append(f"{ties} tie{'s' if ties != 1 else ''}")
        why.append(STANCE_WORDS[h.stance])
        if h.room in leaders:
            why.append("already holds a role")
        score = CENTRALITY_SHARE * c + (1 - CENTRALITY_SHARE) * trust
        found.append(Candidate(h.room, score, c, trust, why))
    found.sort(key=lambda cand: (-cand.score, cand.room))
    return found[: max(0, k)]


# ---------------------------------------------------------------- messenger

# Who carries the message to one household (path-model.md §5, opinion leader): someone that
# household is tied to, weighted by the tie, by how far they are trusted and by their stance.
# Weights are assumptions; only their order matters.
MESSENGER_TIES: Mapping[str, float] = {"kin": 1.5, "friend": 1.0, "party": 1.0, "conversation": 0.8}
MESSENGER_LANDING = 0.6  # the same landing: they meet every day, but a recorded tie says more
MESSENGER_PARTY = 0.4  # a Party member of the same building (党员联系户), no personal tie
MESSENGER_STANCE: Mapping[Stance, float] = {
    Stance.SUPPORT: 1.0,
    Stance.LEAN_SUPPORT: 0.8,
    Stance.UNDECIDED: 0.4,
    Stance.UNKNOWN: 0.3,
}  # an opponent does not carry the message
TIE_NAMES_ZH: Mapping[str, str] = {
    "kin": "亲属",
    "friend": "朋友",
    "party": "党员结对",
    "conversation": "常来往",
    "same_landing": "同一楼层邻居",
    "party_member": "同楼党员",
    "centrality": "单元里联系最广、较受信任",
}


@dataclass(frozen=True)
class Messenger:
    """The household (and person, when known) best placed to talk to one target household."""

    target: str
    room: str
    name: str | None
    via: tuple[str, ...]  # kin, friend, party, conversation, same_landing, party_member, centrality
    score: float

    @property
    def from_ties(self) -> bool:
        return "centrality" not in self.via

    @property
    def via_zh(self) -> str:
        return "、".join(TIE_NAMES_ZH.get(v, v) for v in self.via)

    @property
    def label(self) -> str:
        """ "201 王秀英（朋友）" or "501（单元里联系最广、较受信任）"."""
        who = f"{self.room} {self.name}" if self.name else self.room
        return f"{who}（{self.via_zh}）"

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "room": self.room,
            "name": self.name,
            "via": list(self.via),
            "score": round(self.score, 3),
        }


def _person_in(snapshot: UnitSnapshot, room: str) -> str | None:
    for ld in snapshot.leaders:
        if ld.room == room:
            return ld.name
    h = snapshot.household(room)
    return h.residents[0].name if h.residents else None


def messenger_for(
    snapshot: UnitSnapshot, room: str, candidates: list[Candidate] | None = None
) -> Messenger | None:
    """Who should talk to `room`: from its own ties, weighted by trust and stance.

    Ties are the recorded ones (kin, friend, Party pairing, conversation), the same landing and
    a Party member living in the building. Only when the household has none of these does the
    unit-wide opinion-leader ranking (`candidates`) stand in. None when nobody fits.
    """
    target = snapshot.household(room)
    strength: dict[str, float] = {}
    kinds: dict[str, list[str]] = {}

    def add(other: str, weight: float, kind: str) -> None:
        strength[other] = strength.get(other, 0.0) + weight
        if kind not in kinds.setdefault(other, []):
            kinds[other].append(kind)

    for tie in snapshot.ties:
        if room in (tie.a, tie.b) and tie.a != tie.b:
            other = tie.b if tie.a == room else tie.a
            add(other, MESSENGER_TIES.get(tie.kind, DEFAULT_TIE_WEIGHT) * tie.weight, tie.kind)
    for h in snapshot.households:
        if h.room == room or not h.lives_here:
            continue
        if target.lives_here and h.floor == target.floor:
            add(h.room, MESSENGER_LANDING, "same_landing")
        if h.party_member:
            add(h.room, MESSENGER_PARTY, "party_member")
    best: Messenger | None = None
    for other, weight in strength.items():
        try:
            h = snapshot.household(other)
        except KeyError:
            continue
        factor = MESSENGER_STANCE.get(h.stance)
        if factor is None or not h.lives_here:
            continue
        trust, _ = _trust(h)
        score = weight * trust * factor
        found = Messenger(room, other, _person_in(snapshot, other), tuple(kinds[other]), score)
        if best is None or (score, -_floor_rank(snapshot, other)) > (
            best.score,
            -_floor_rank(snapshot, best.room),
        ):
            best = found
    if best is not None:
        return best
    pool = candidates if candidates is not None else opinion_leader_candidates(snapshot, k=5)
    for cand in pool:
        if cand.room != room and snapshot.household(cand.room).stance in MESSENGER_STANCE:
            return Messenger(
                room, cand.room, _person_in(snapshot, cand.room), ("centrality",), cand.score
            )
    return None


def _floor_rank(snapshot: UnitSnapshot, room: str) -> int:
    """Ties of equal score go to the lower room in the listing order: stable output."""
    return snapshot.rooms.index(room)


# ---------------------------------------------------------------- reach


def unreached(snapshot: UnitSnapshot, graph: nx.Graph | None = None) -> list[str]:
    """Households no activity reached and no supporter or leader within two hops can reach.

    Absentee and developer-held flats count as reached only when an activity named them.
    """
    g = influence_network(snapshot) if graph is None else graph
    reached = reached_rooms(snapshot)
    sources = {ld.room for ld in snapshot.leaders if ld.room}
    sources |= {
        h.room
        for h in snapshot.households
        if (s := h.stance.score) is not None and s >= SUPPORT_THRESHOLD
    }
    out = []
    for h in snapshot.households:
        if h.room in reached:
            continue
        if h.lives_here and h.room in g:
            near = nx.single_source_shortest_path_length(g, h.room, cutoff=REACH_HOPS)
            if any(room in sources for room in near):
                continue
        out.append(h.room)
    return out


# ---------------------------------------------------------------- dynamics


def friedkin_johnsen_weights(graph: nx.Graph) -> tuple[list[str], sparse.csr_array]:
    """Rooms in node order and W, row-stochastic over edge weights; an isolated node keeps itself."""
    rooms = [str(room) for room in graph.nodes]
    n = len(rooms)
    if n == 0:
        return rooms, sparse.csr_array((0, 0), dtype=float)
    adj = nx.to_scipy_sparse_array(graph, nodelist=rooms, weight="weight", dtype=float)
    sums = np.asarray(adj.sum(axis=1), dtype=float).ravel()
    isolated = sums <= 0
    inverse = np.divide(1.0, sums, out=np.zeros(n), where=~isolated)
    w = sparse.diags_array(inverse) @ adj + sparse.diags_array(isolated.astype(float))
    return rooms, sparse.csr_array(w)


# ---------------------------------------------------------------- JSON for the web page


def network_json(snapshot: UnitSnapshot, k: int = 3) -> dict[str, Any]:
    """Nodes, edges, opinion-leader candidates and unreached households, ready to draw."""
    g = influence_network(snapshot)
    nodes = [{"id": str(room), **data} for room, data in g.nodes(data=True)]
    edges = [
        {
            "source": str(a),
            "target": str(b),
            "weight": round(float(data["weight"]), 3),
            "kinds": list(data["kinds"]),
        }
        for a, b, data in g.edges(data=True)
    ]
    return {
        "nodes": nodes,
        "edges": edges,
        "candidates": [c.to_json() for c in opinion_leader_candidates(snapshot, g, k)],
        "unreached": unreached(snapshot, g),
    }
