"""Evidence projects in the database: codebook, history, sources, cases, codings, memos.

`EvidenceRepository.load()` gives a whole `EvidenceProject`; the other methods store one
change each, inside the caller's transaction. Source text is stored exactly as given.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, and_, delete, func, insert, select, update

from colift.errors import BadInput, NotFound
from colift.evidence.codebook import Codebook
from colift.evidence.model import Case, Code, CodeLevel, Coding, EvidenceSet, Memo, Source
from colift.evidence.project import EvidenceProject, HistoryRecord
from colift.store import tables as t


@dataclass(frozen=True)
class ProjectSummary:
    name: str
    description: str
    created_at: datetime
    created_by: str
    sources: int
    codings: int
    coders: tuple[str, ...]
    compound: str | None = None
    street: str | None = None
    shared: bool = False


@dataclass(frozen=True)
class ProjectScope:
    """Whose project: the compound (its code and street) or none, and whether an admin shared it."""

    name: str
    compound: str | None
    street: str | None
    shared: bool


@dataclass(frozen=True)
class SuggestionDecision:
    """A coder's verdict on a suggested code for a segment."""

    source_id: str
    start: int
    end: int
    code: str
    accepted: bool
    score: float
    decided_by: str
    decided_at: datetime


def _aware(at: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: read them as the UTC they were stored in."""
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=UTC)


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class EvidenceRepository:
    def __init__(self, connection: Connection) -> None:
        self.c = connection

    # ---------------------------------------------------------------- projects

    def project_id(self, name: str) -> int:
        found = self.c.execute(
            select(t.evidence_projects.c.id).where(t.evidence_projects.c.name == name)
        ).scalar_one_or_none()
        if found is None:
            known = self.c.execute(
                select(t.evidence_projects.c.name).order_by(t.evidence_projects.c.id).limit(8)
            ).scalars()
            names = ", ".join(known) or "none yet"
            raise NotFound(
                "no evidence project {name} (projects: {names})", name=repr(name), names=names
            )
        return int(found)

    def exists(self, name: str) -> bool:
        return (
            self.c.execute(
                select(t.evidence_projects.c.id).where(t.evidence_projects.c.name == name)
            ).first()
            is not None
        )

    def list_projects(self) -> list[ProjectSummary]:
        p = t.evidence_projects
        s = t.evidence_sources
        k = t.evidence_codings
        source_counts: dict[int, int] = dict(
            self.c.execute(select(s.c.project_id, func.count()).group_by(s.c.project_id)).all()
        )
        coding_rows = self.c.execute(
            select(s.c.project_id, k.c.coder, func.count())
            .join(s, s.c.id == k.c.source_id)
            .group_by(s.c.project_id, k.c.coder)
            .order_by(s.c.project_id, k.c.coder)
        ).all()
        codings: dict[int, int] = {}
        coders: dict[int, list[str]] = {}
        for pid, coder, n in coding_rows:
            codings[pid] = codings.get(pid, 0) + int(n)
            coders.setdefault(pid, []).append(str(coder))
        out: list[ProjectSummary] = []
        places = self._places()
        for row in self.c.execute(select(p).order_by(p.c.id)).mappings():
            code, street = places.get(row["compound_id"], (None, None))
            created = _aware(row["created_at"])
            assert created is not None
            out.append(
                ProjectSummary(
                    name=row["name"],
                    description=row["description"],
                    created_at=created,
                    created_by=row["created_by"],
                    sources=int(source_counts.get(row["id"], 0)),
                    codings=codings.get(row["id"], 0),
                    coders=tuple(coders.get(row["id"], ())),
                    compound=code,
                    street=street,
                    shared=bool(row["shared"]),
                )
            )
        return out

    def _places(self) -> dict[int, tuple[str, str]]:
        c = t.compounds
        rows = self.c.execute(select(c.c.id, c.c.code, c.c.street)).all()
        return {int(i): (str(code), str(street)) for i, code, street in rows}

    def _compound_id(self, code: str) -> int:
        found = self.c.execute(
            select(t.compounds.c.id).where(t.compounds.c.code == code.strip())
        ).scalar_one_or_none()
        if found is None:
            raise NotFound("no compound has the code {code}", code=code)
        return int(found)

    def scope(self, name: str) -> ProjectScope:
        """Whose project `name` is (NotFound when there is none)."""
        p = t.evidence_projects
        row = self.c.execute(
            select(p.c.compound_id, p.c.shared).where(p.c.id == self.project_id(name))
        ).one()
        code, street = self._places().get(row.compound_id, (None, None))
        return ProjectScope(name, code, street, bool(row.shared))

    def set_scope(self, name: str, *, compound: str | None, shared: bool) -> ProjectScope:
        pid = self.project_id(name)
        compound_id = None if compound is None else self._compound_id(compound)
        self.c.execute(
            update(t.evidence_projects)
            .where(t.evidence_projects.c.id == pid)
            .values(compound_id=compound_id, shared=shared)
        )
        return self.scope(name)

    def create(
        self,
        project: EvidenceProject,
        *,
        actor: str,
        at: datetime,
        compound: str | None = None,
        shared: bool = False,
    ) -> int:
        """Store a whole project (new name) of `compound` (None: admins only unless `shared`);
        returns its row id."""
        compound_id = None if compound is None else self._compound_id(compound)
        if self.exists(project.name):
            raise BadInput(
                "an evidence project named {name} already exists", name=repr(project.name)
            )
        pid = _new_id(
            self.c.execute(
                insert(t.evidence_projects).values(
                    name=project.name,
                    description=project.description,
                    created_at=at,
                    created_by=actor,
                    compound_id=compound_id,
                    shared=shared,
                )
            )
        )
        self.replace_codebook(pid, project.codebook)
        for record in project.history:
            self.add_history(pid, record)
        for name in project.users:
            self.add_user(pid, name)
        for case in project.cases.values():
            self.add_case(pid, case)
        for source in project.sources.values():
            self.add_source(pid, source)
        for coding in project.codings:
            self.add_coding(pid, coding, at=at)
        for memo in project.memos.values():
            self.add_memo(pid, memo, at=at)
        self.set_guids(pid, project.guids)
        for ps in project.sets.values():
            self.c.execute(
                insert(t.evidence_sets).values(
                    project_id=pid,
                    set_id=ps.id,
                    name=ps.name,
                    description=ps.description,
                    codes=json.dumps(list(ps.codes), ensure_ascii=False),
                    sources=json.dumps(list(ps.sources), ensure_ascii=False),
                )
            )
        return pid

    def _sets(self, pid: int) -> dict[str, EvidenceSet]:
        rows = self.c.execute(
            select(t.evidence_sets)
            .where(t.evidence_sets.c.project_id == pid)
            .order_by(t.evidence_sets.c.set_id)
        ).mappings()
        return {
            r["set_id"]: EvidenceSet(
                r["set_id"],
                r["name"],
                r["description"],
                tuple(json.loads(r["codes"])),
                tuple(json.loads(r["sources"])),
            )
            for r in rows
        }

    def delete(self, name: str) -> None:
        self.c.execute(
            delete(t.evidence_projects).where(t.evidence_projects.c.id == self.project_id(name))
        )

    def load(self, name: str) -> EvidenceProject:
        pid = self.project_id(name)
        row = (
            self.c.execute(select(t.evidence_projects).where(t.evidence_projects.c.id == pid))
            .mappings()
            .one()
        )
        codebook = self.codebook(pid)
        cases = self._cases(pid)
        sources = self._sources(pid)
        return EvidenceProject(
            name=row["name"],
            codebook=codebook,
            sources=sources,
            cases=cases,
            codings=self._codings(pid),
            memos=self._memos(pid),
            history=self.history(pid),
            users=list(
                self.c.execute(
                    select(t.evidence_users.c.name)
                    .where(t.evidence_users.c.project_id == pid)
                    .order_by(t.evidence_users.c.name)
                ).scalars()
            ),
            description=row["description"],
            guids={
                k: v
                for k, v in self.c.execute(
                    select(t.evidence_guids.c["key"], t.evidence_guids.c.guid).where(
                        t.evidence_guids.c.project_id == pid
                    )
                )
            },
            sets=self._sets(pid),
        )

    # ---------------------------------------------------------------- codebook and history

    def codebook(self, pid: int) -> Codebook:
        c = t.evidence_codes
        rows = self.c.execute(
            select(c).where(c.c.project_id == pid).order_by(c.c.position, c.c.id)
        ).mappings()
        codes = [
            Code(
                id=r["code"],
                name=r["name"],
                name_en=r["name_en"],
                parent=r["parent"],
                level=CodeLevel(r["level"]),
                definition=r["definition"],
                include=r["include_note"],
                exclude=r["exclude_note"],
                examples=tuple(json.loads(r["examples"])),
                triggers=tuple(json.loads(r["triggers"])),
                color=r["color"],
            )
            for r in rows
        ]
        meta = self.c.execute(
            select(t.evidence_projects.c.name).where(t.evidence_projects.c.id == pid)
        ).scalar_one()
        return Codebook(codes, name=str(meta), version="")

    def replace_codebook(self, pid: int, codebook: Codebook) -> None:
        self.c.execute(delete(t.evidence_codes).where(t.evidence_codes.c.project_id == pid))
        rows = [
            {
                "project_id": pid,
                "code": code.id,
                "name": code.name,
                "name_en": code.name_en,
                "parent": code.parent,
                "level": code.level.value,
                "definition": code.definition,
                "include_note": code.include,
                "exclude_note": code.exclude,
                "examples": json.dumps(list(code.examples), ensure_ascii=False),
                "triggers": json.dumps(list(code.triggers), ensure_ascii=False),
                "color": code.color,
                "position": i,
            }
            for i, code in enumerate(codebook)
        ]
        if rows:
            self.c.execute(insert(t.evidence_codes), rows)

    def add_history(self, pid: int, record: HistoryRecord) -> None:
        self.c.execute(
            insert(t.evidence_code_history).values(
                project_id=pid,
                at=record.at or datetime.now(UTC),
                actor=record.actor,
                operation=record.operation,
                detail=json.dumps(dict(record.detail), ensure_ascii=False, sort_keys=True),
            )
        )

    def history(self, pid: int) -> list[HistoryRecord]:
        h = t.evidence_code_history
        rows = self.c.execute(select(h).where(h.c.project_id == pid).order_by(h.c.id)).mappings()
        return [
            HistoryRecord(r["operation"], json.loads(r["detail"]), r["actor"], _aware(r["at"]))
            for r in rows
        ]

    # ---------------------------------------------------------------- users, cases, sources

    def add_user(self, pid: int, name: str) -> None:
        u = t.evidence_users
        if self.c.execute(select(u.c.name).where(u.c.project_id == pid, u.c.name == name)).first():
            return
        self.c.execute(insert(u).values(project_id=pid, name=name))

    def _next_position(self, table: Any, pid: int) -> int:
        top = self.c.execute(
            select(func.max(table.c.position)).where(table.c.project_id == pid)
        ).scalar_one_or_none()
        return 0 if top is None else int(top) + 1

    def add_case(self, pid: int, case: Case) -> None:
        row_id = _new_id(
            self.c.execute(
                insert(t.evidence_cases).values(
                    project_id=pid,
                    case=case.id,
                    name=case.name,
                    position=self._next_position(t.evidence_cases, pid),
                )
            )
        )
        self._set_variables(row_id, case.variables)

    def update_case(self, pid: int, case: Case) -> None:
        row_id = self._case_row(pid, case.id)
        self.c.execute(
            update(t.evidence_cases).where(t.evidence_cases.c.id == row_id).values(name=case.name)
        )
        self._set_variables(row_id, case.variables)

    def _set_variables(self, row_id: int, variables: Mapping[str, str]) -> None:
        v = t.evidence_case_variables
        self.c.execute(delete(v).where(v.c.case_id == row_id))
        if variables:
            self.c.execute(
                insert(v),
                [{"case_id": row_id, "name": k, "value": val} for k, val in variables.items()],
            )

    def _case_row(self, pid: int, case_id: str) -> int:
        c = t.evidence_cases
        found = self.c.execute(
            select(c.c.id).where(c.c.project_id == pid, c.c.case == case_id)
        ).scalar_one_or_none()
        if found is None:
            raise NotFound("no case {case_id} in this project", case_id=repr(case_id))
        return int(found)

    def _source_row(self, pid: int, source_id: str) -> int:
        s = t.evidence_sources
        found = self.c.execute(
            select(s.c.id).where(s.c.project_id == pid, s.c.source == source_id)
        ).scalar_one_or_none()
        if found is None:
            raise NotFound("no source {source_id} in this project", source_id=repr(source_id))
        return int(found)

    def add_source(self, pid: int, source: Source) -> None:
        self.c.execute(
            insert(t.evidence_sources).values(
                project_id=pid,
                source=source.id,
                name=source.name,
                kind=source.kind,
                language=source.language,
                text=source.text,
                position=self._next_position(t.evidence_sources, pid),
            )
        )
        self.update_source_links(pid, source)

    def update_source_links(self, pid: int, source: Source) -> None:
        """Store the source's case links and registry links as they are now."""
        row_id = self._source_row(pid, source.id)
        sc = t.evidence_source_cases
        self.c.execute(delete(sc).where(sc.c.source_id == row_id))
        if source.case_ids:
            self.c.execute(
                insert(sc),
                [
                    {"source_id": row_id, "case_id": self._case_row(pid, case_id), "position": i}
                    for i, case_id in enumerate(source.case_ids)
                ],
            )
        sl = t.evidence_source_links
        self.c.execute(delete(sl).where(sl.c.source_id == row_id))
        if source.links:
            self.c.execute(
                insert(sl),
                [{"source_id": row_id, "kind": k, "target": v} for k, v in source.links.items()],
            )

    def _cases(self, pid: int) -> dict[str, Case]:
        c = t.evidence_cases
        v = t.evidence_case_variables
        variables: dict[int, dict[str, str]] = {}
        for case_row, name, value in self.c.execute(
            select(v.c.case_id, v.c.name, v.c.value)
            .join(c, c.c.id == v.c.case_id)
            .where(c.c.project_id == pid)
            .order_by(v.c.case_id, v.c.name)
        ):
            variables.setdefault(case_row, {})[name] = value
        rows = self.c.execute(
            select(c.c.id, c.c.case, c.c.name).where(c.c.project_id == pid).order_by(c.c.position)
        )
        return {cid: Case(cid, name, variables.get(rid, {})) for rid, cid, name in rows}

    def _sources(self, pid: int) -> dict[str, Source]:
        s = t.evidence_sources
        c = t.evidence_cases
        sc = t.evidence_source_cases
        sl = t.evidence_source_links
        case_links: dict[int, list[str]] = {}
        for source_row, case_id in self.c.execute(
            select(sc.c.source_id, c.c.case)
            .join(c, c.c.id == sc.c.case_id)
            .where(c.c.project_id == pid)
            .order_by(sc.c.source_id, sc.c.position)
        ):
            case_links.setdefault(source_row, []).append(case_id)
        links: dict[int, dict[str, str]] = {}
        for source_row, kind, target in self.c.execute(
            select(sl.c.source_id, sl.c.kind, sl.c.target)
            .join(s, s.c.id == sl.c.source_id)
            .where(s.c.project_id == pid)
            .order_by(sl.c.source_id, sl.c.kind)
        ):
            links.setdefault(source_row, {})[kind] = target
        rows = self.c.execute(
            select(s).where(s.c.project_id == pid).order_by(s.c.position)
        ).mappings()
        return {
            r["source"]: Source(
                id=r["source"],
                name=r["name"],
                text=r["text"],
                kind=r["kind"],
                language=r["language"],
                case_ids=tuple(case_links.get(r["id"], ())),
                links=links.get(r["id"], {}),
            )
            for r in rows
        }

    # ---------------------------------------------------------------- codings and memos

    def add_coding(self, pid: int, coding: Coding, *, at: datetime) -> None:
        self.c.execute(
            insert(t.evidence_codings).values(
                source_id=self._source_row(pid, coding.source_id),
                start_pos=coding.start,
                end_pos=coding.end,
                code=coding.code,
                coder=coding.coder,
                created_at=at,
            )
        )
        self.add_user(pid, coding.coder)

    def remove_coding(self, pid: int, coding: Coding) -> None:
        k = t.evidence_codings
        done = self.c.execute(
            delete(k).where(
                and_(
                    k.c.source_id == self._source_row(pid, coding.source_id),
                    k.c.start_pos == coding.start,
                    k.c.end_pos == coding.end,
                    k.c.code == coding.code,
                    k.c.coder == coding.coder,
                )
            )
        )
        if done.rowcount == 0:
            raise NotFound(
                "{coder} has no coding {code} on {source_id}:{start}-{end}",
                coder=coding.coder,
                code=coding.code,
                source_id=coding.source_id,
                start=coding.start,
                end=coding.end,
            )

    def replace_codings(self, pid: int, codings: Iterable[Coding], *, at: datetime) -> None:
        """Store exactly `codings` for the project, keeping when each surviving one was made."""
        s = t.evidence_sources
        k = t.evidence_codings
        rows = self.c.execute(
            select(s.c.source, k.c.start_pos, k.c.end_pos, k.c.code, k.c.coder, k.c.created_at)
            .join(s, s.c.id == k.c.source_id)
            .where(s.c.project_id == pid)
        )
        made = {Coding(r[0], r[1], r[2], r[3], r[4]): r[5] for r in rows}
        source_rows = select(s.c.id).where(s.c.project_id == pid).scalar_subquery()
        self.c.execute(delete(k).where(k.c.source_id.in_(source_rows)))
        for coding in codings:
            self.add_coding(pid, coding, at=made.get(coding) or at)

    def _codings(self, pid: int) -> list[Coding]:
        s = t.evidence_sources
        k = t.evidence_codings
        rows = self.c.execute(
            select(s.c.source, k.c.start_pos, k.c.end_pos, k.c.code, k.c.coder)
            .join(s, s.c.id == k.c.source_id)
            .where(s.c.project_id == pid)
            .order_by(s.c.position, k.c.start_pos, k.c.end_pos, k.c.id)
        )
        return [Coding(*r) for r in rows]

    def add_memo(self, pid: int, memo: Memo, *, at: datetime) -> None:
        self.c.execute(
            insert(t.evidence_memos).values(
                project_id=pid,
                memo=memo.id,
                text=memo.text,
                author=memo.author,
                target_kind=memo.target_kind,
                target=memo.target,
                created_at=at,
            )
        )

    def retarget_memo(self, pid: int, memo: Memo) -> None:
        m = t.evidence_memos
        self.c.execute(
            update(m)
            .where(m.c.project_id == pid, m.c.memo == memo.id)
            .values(target_kind=memo.target_kind, target=memo.target)
        )

    def _memos(self, pid: int) -> dict[str, Memo]:
        m = t.evidence_memos
        rows = self.c.execute(select(m).where(m.c.project_id == pid).order_by(m.c.id)).mappings()
        return {
            r["memo"]: Memo(r["memo"], r["text"], r["author"], r["target_kind"], r["target"])
            for r in rows
        }

    # ---------------------------------------------------------------- GUIDs and suggestions

    def set_guids(self, pid: int, guids: Mapping[str, str]) -> None:
        g = t.evidence_guids
        self.c.execute(delete(g).where(g.c.project_id == pid))
        if guids:
            self.c.execute(
                insert(g), [{"project_id": pid, "key": k, "guid": v} for k, v in guids.items()]
            )

    def add_decision(self, pid: int, decision: SuggestionDecision) -> None:
        self.c.execute(
            insert(t.evidence_suggestion_decisions).values(
                source_id=self._source_row(pid, decision.source_id),
                start_pos=decision.start,
                end_pos=decision.end,
                code=decision.code,
                accepted=decision.accepted,
                score_permille=round(decision.score * 1000),
                decided_by=decision.decided_by,
                decided_at=decision.decided_at,
            )
        )

    def decisions(self, pid: int) -> list[SuggestionDecision]:
        s = t.evidence_sources
        d = t.evidence_suggestion_decisions
        rows = self.c.execute(
            select(
                s.c.source,
                d.c.start_pos,
                d.c.end_pos,
                d.c.code,
                d.c.accepted,
                d.c.score_permille,
                d.c.decided_by,
                d.c.decided_at,
            )
            .join(s, s.c.id == d.c.source_id)
            .where(s.c.project_id == pid)
            .order_by(d.c.id)
        )
        out: list[SuggestionDecision] = []
        for r in rows:
            decided = _aware(r[7])
            assert decided is not None
            out.append(
                SuggestionDecision(r[0], r[1], r[2], r[3], bool(r[4]), r[5] / 1000, r[6], decided)
            )
        return out
