"""Evidence pages: projects, a source with its codings and suggestions, agreement, analysis.

Researchers here are workers, street offices and admins (read); workers and admins code. Every
page calls `services/evidence.py`; forms carry the CSRF token like every other form.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from colift.errors import BadInput, ColiftError, NotFound
from colift.evidence.analysis import MISSING
from colift.evidence.codebook import Codebook
from colift.evidence.model import Coding, Memo
from colift.http.uploads import read_upload
from colift.i18n import Label, msg
from colift.services import evidence as ev
from colift.services.access import (
    Principal,
    can_read_evidence,
    can_read_project,
    can_write_evidence,
    can_write_project,
)
from colift.services.accounts import list_accounts
from colift.web.pages import Form, Refused, Who, _int, _text, back, engine_of
from colift.web.render import page_language, render

router = APIRouter(include_in_schema=False)


def _read(who: Principal, request: Request | None = None, project: str | None = None) -> None:
    """Evidence readers only; with a project, only one of the reader's compound (or street),
    a shared one, or any for an admin."""
    if not can_read_evidence(who):
        raise Refused(
            "研究资料只对社区、街道和管理员开放 / evidence is for workers, street offices and admins"
        )
    if (
        request is not None
        and project is not None
        and not can_read_project(who, ev.project_scope(engine_of(request), project))
    ):
        raise Refused(msg("this research project belongs to another compound"))


def _write(who: Principal, request: Request | None = None, project: str | None = None) -> None:
    if not can_write_evidence(who):
        raise Refused("你的角色不能编码 / your role may not code")
    if (
        request is not None
        and project is not None
        and not can_write_project(who, ev.project_scope(engine_of(request), project))
    ):
        raise Refused(msg("this research project belongs to another compound"))


def _visible(who: Principal, summary: ev.ProjectSummary) -> bool:
    scope = ev.ProjectScope(summary.name, summary.compound, summary.street, summary.shared)
    return can_read_project(who, scope)


def code_name(codebook: Codebook, code_id: str, lang: str) -> str:
    try:
        code = codebook.get(code_id)
    except NotFound:
        return code_id
    return code.name_en if lang == "en" else code.name


# Case attributes and their usual values in words; anything else is shown as stored.
ATTRIBUTES = {
    "role": Label("角色", "role"),
    "kind": Label("身份", "kind"),
    "floor": Label("楼层", "floor"),
    "tenure": Label("产权与居住", "tenure"),
    "age_band": Label("年龄段", "age band"),
    "unit": Label("单元", "unit"),
    "building": Label("楼栋", "building"),
}
VALUES = {
    "kind": {
        "formal": Label("正式组织人员", "formal organisation"),
        "informal": Label("非正式领袖", "informal leader"),
        "resident": Label("住户", "resident"),
    },
    "tenure": {
        "owner_occupied": Label("业主自住", "owner-occupied"),
        "rented": Label("出租", "rented"),
        "rented_out": Label("出租", "rented out"),
        "vacant": Label("空置", "vacant"),
        "absentee": Label("业主不在本地", "owner away"),
    },
}
NO_VALUE = Label("未填", "not given")
SOURCE_KINDS = {
    "interview": Label("访谈", "interview"),
    "minutes": Label("会议纪要", "meeting minutes"),
    "mediation": Label("调解记录", "mediation notes"),
    "chat": Label("聊天记录", "chat export"),
    "other": Label("其他", "other"),
}
MEMO_KINDS = {
    "project": Label("本项目", "the project"),
    "code": Label("编码", "code"),
    "source": Label("资料", "source"),
    "segment": Label("片段", "passage"),
    "case": Label("个案", "case"),
}


def attribute_name(attribute: str, lang: str) -> str:
    label = ATTRIBUTES.get(attribute)
    return label.render(lang) if label else attribute


def attribute_value(attribute: str, value: str, lang: str) -> str:
    """A case variable's value in words: `floor=6` is 6楼, `age_band=75+` is 75岁及以上."""
    if value in ("", MISSING):
        return NO_VALUE.render(lang)
    label = VALUES.get(attribute, {}).get(value)
    if label:
        return label.render(lang)
    if attribute == "floor" and value.isdigit():
        return f"{value}楼" if lang != "en" else f"floor {value}"
    if attribute == "age_band":
        if value.endswith("+"):
            return f"{value[:-1]}岁及以上" if lang != "en" else f"{value[:-1]} and over"
        return f"{value.replace('-', '–')}岁" if lang != "en" else value.replace("-", "–")
    return value


def case_variables(variables: dict[str, str], lang: str) -> str:
    """A case's variables as a line of words: `年龄段：75岁及以上，楼层：6楼`."""
    colon, comma = (": ", "; ") if lang == "en" else ("：", "，")
    return comma.join(
        f"{attribute_name(k, lang)}{colon}{attribute_value(k, v, lang)}"
        for k, v in variables.items()
    )


def source_kind(kind: str, lang: str) -> str:
    label = SOURCE_KINDS.get(kind)
    return label.render(lang) if label else kind


def memo_target(project: Any, memo: Memo, lang: str) -> str:
    """What a memo is about, in words: the code's, source's or case's name, or the passage."""
    kind = MEMO_KINDS.get(memo.target_kind)
    what = kind.render(lang) if kind else memo.target_kind
    target = memo.target
    if memo.target_kind == "project" or not target:
        return what
    if memo.target_kind == "code":
        return f"{what}「{code_name(project.codebook, target, lang)}」"
    if memo.target_kind == "source":
        source = project.sources.get(target)
        return f"{what}「{source.name if source else target}」"
    if memo.target_kind == "case":
        case = project.cases.get(target)
        return f"{what}「{case.name if case else target}」"
    if memo.target_kind == "segment":
        source_id, _, span = target.rpartition(":")
        source = project.sources.get(source_id)
        start, _, end = span.partition("-")
        if source is not None and start.isdigit() and end.isdigit():
            words = source.text[int(start) : int(end)].strip()
            short = words if len(words) <= 40 else words[:39] + "…"
            return f"{source.name}：「{short}」"
    return f"{what} {target}"


def people(engine: Any) -> dict[str, str]:
    """Account usernames to display names: a coder stored by login shows as the person."""
    return {a.username: a.display_name for a in list_accounts(engine) if a.display_name}


def words(request: Request, project: Any) -> dict[str, Any]:
    """The functions every evidence page uses to put ids into words in the page's language."""
    lang = page_language(request)
    names = people(engine_of(request))
    return {
        "coder": lambda coder: names.get(coder, coder),
        "attribute_name": lambda attribute: attribute_name(attribute, lang),
        "attribute_value": lambda attribute, value: attribute_value(attribute, value, lang),
        "source_kind": lambda kind: source_kind(kind, lang),
        "memo_target": lambda memo: (
            f" ({memo_target(project, memo, lang)})"
            if lang == "en"
            else f"（{memo_target(project, memo, lang)}）"
        ),
        "case_variables": lambda variables: case_variables(variables, lang),
    }


def chunks(text: str, codings: tuple[Coding, ...]) -> list[dict[str, Any]]:
    """The text cut at every coding boundary; each piece with the codes covering it."""
    cuts = sorted({0, len(text), *(c.start for c in codings), *(c.end for c in codings)})
    out = []
    for start, end in pairwise(cuts):
        if start >= end:
            continue
        codes = sorted({c.code for c in codings if c.start < end and c.end > start})
        out.append({"start": start, "text": text[start:end], "codes": codes})
    return out


@router.get("/evidence", response_class=HTMLResponse)
def projects_page(request: Request, who: Who) -> Response:
    _read(who)
    mine = [p for p in ev.list_projects(engine_of(request)) if _visible(who, p)]
    names = people(engine_of(request))
    return render(
        request,
        "evidence/projects.html",
        projects=mine,
        coder=lambda coder: names.get(coder, coder),
    )


@router.get("/evidence/{project}", response_class=HTMLResponse)
def project_page(request: Request, project: str, who: Who, q: str = "", code: str = "") -> Response:
    """The project; `q` searches its sources, `code` lists every segment coded with that code."""
    _read(who, request, project)
    hits = ev.search_sources(engine_of(request), project, q, limit=100) if q.strip() else []
    return project_page_with(request, project, who, q=q, hits=hits, code=code.strip())


@router.get("/evidence/{project}/sources/{source_id}", response_class=HTMLResponse)
def source_page(request: Request, project: str, source_id: str, who: Who) -> Response:
    _read(who, request, project)
    return _source(request, project, source_id, who)


def _source(
    request: Request, project: str, source_id: str, who: Principal, status: int = 200, **extra: Any
) -> Response:
    view = ev.source_view(engine_of(request), project, source_id)
    lang = page_language(request)
    codebook = view.project.codebook
    return render(
        request,
        "evidence/source.html",
        status=status,
        view=view,
        pieces=chunks(view.source.text, view.codings),
        name=lambda code_id: code_name(codebook, code_id, lang),
        colors={c.id: c.color for c in codebook.codes.values()}
        if hasattr(codebook, "codes")
        else {},
        codes=[c for c in codebook.walk()],
        depth=codebook.depth,
        write=can_write_project(who, ev.project_scope(engine_of(request), project)),
        **words(request, view.project),
        **extra,
    )


@router.post("/evidence/{project}/sources/{source_id}/codings")
def post_coding(request: Request, project: str, source_id: str, who: Who, form: Form) -> Response:
    _write(who, request, project)
    engine = engine_of(request)
    start, end = _int(form, "start", -1), _int(form, "end", -1)
    code = _text(form, "code")
    action = _text(form, "action") or "code"
    try:
        if action == "accept" or action == "reject":
            ev.decide_suggestion(
                engine,
                project,
                source_id,
                start,
                end,
                code,
                accepted=action == "accept",
                coder=who.name,
            )
            message = (
                "已采纳建议 / suggestion accepted"
                if action == "accept"
                else "已拒绝建议 / suggestion rejected"
            )
        elif action == "remove":
            ev.remove_coding(engine, project, source_id, start, end, code, _text(form, "coder"))
            message = "已删除编码 / coding removed"
        else:
            if start < 0 or end <= start:
                raise BadInput("select a passage of the text first")
            ev.code_segment(engine, project, source_id, start, end, code, who.name)
            message = "已编码 / segment coded"
    except ColiftError as exc:
        return _source(request, project, source_id, who, status=400, error=exc)
    return back(request, f"/evidence/{project}/sources/{source_id}", message)


def _project_action(
    request: Request, project: str, who: Principal, action: Any, anchor: str
) -> Response:
    """Run one evidence service for a project form; a refusal re-renders the page."""
    _write(who, request, project)
    try:
        message = action()
    except ColiftError as exc:
        return project_page_with(request, project, who, status=400, error=exc)
    return back(request, f"/evidence/{project}#{anchor}", message)


def project_page_with(
    request: Request, project: str, who: Principal, status: int = 200, **extra: Any
) -> Response:
    engine = engine_of(request)
    loaded = ev.get_project(engine, project)
    counts: dict[str, int] = {}
    for c in loaded.codings:
        counts[c.code] = counts.get(c.code, 0) + 1
    code = str(extra.pop("code", "") or "")
    coded = [
        {
            "source": c.source_id,
            "name": loaded.sources[c.source_id].name,
            "start": c.start,
            "end": c.end,
            "text": loaded.sources[c.source_id].text[c.start : c.end],
        }
        for c in sorted(loaded.codings, key=lambda c: (c.source_id, c.start, c.end))
        if code and c.code == code and c.source_id in loaded.sources
    ]
    return render(
        request,
        "evidence/project.html",
        status=status,
        project=loaded,
        counts=counts,
        codebook=loaded.codebook,
        write=can_write_project(who, ev.project_scope(engine_of(request), project)),
        **words(request, loaded),
        code=code,
        code_label=code_name(loaded.codebook, code, page_language(request)) if code else "",
        coded=coded,
        **{"q": "", "hits": [], **extra},
    )


@router.post("/evidence/{project}/sources")
def post_source(request: Request, project: str, who: Who, form: Form) -> Response:
    def run() -> str:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise BadInput("choose a .txt, .md or .docx file")
        data = read_upload(upload.file)
        made = ev.add_source(
            engine_of(request),
            project,
            data,
            upload.filename,
            name=_text(form, "name") or None,
            kind=_text(form, "kind") or None,
            actor=who.name,
        )
        return f"已导入资料 {made.name} / source imported"

    return _project_action(request, project, who, run, "sources")


@router.post("/evidence/{project}/memos")
def post_memo(request: Request, project: str, who: Who, form: Form) -> Response:
    def run() -> str:
        text = _text(form, "text")
        if not text:
            raise BadInput("a memo needs its text")
        ev.add_memo(
            engine_of(request),
            project,
            text,
            who.name,
            target_kind=_text(form, "target_kind") or "project",
            target=_text(form, "target"),
        )
        return "已添加备忘录 / memo added"

    return _project_action(request, project, who, run, "memos")


@router.post("/evidence/{project}/codebook")
def post_codebook(request: Request, project: str, who: Who, form: Form) -> Response:
    def run() -> str:
        operation = _text(form, "operation")
        if operation not in ("merge", "move", "rename"):
            raise BadInput("choose merge, move or rename")
        ev.edit_codebook(
            engine_of(request),
            project,
            operation,
            _text(form, "code"),
            actor=who.name,
            into=_text(form, "into") or None,
            new_parent=_text(form, "new_parent") or None,
            name=_text(form, "name") or None,
            name_en=_text(form, "name_en") or None,
            note=_text(form, "note"),
        )
        return "编码本已修改 / codebook changed"

    return _project_action(request, project, who, run, "codebook")


@router.get("/evidence/{project}/agreement", response_class=HTMLResponse)
def agreement_page(request: Request, project: str, who: Who) -> Response:
    _read(who, request, project)
    engine = engine_of(request)
    loaded = ev.get_project(engine, project)
    report = ev.agreement_report(engine, project)
    lang = page_language(request)
    return render(
        request,
        "evidence/agreement.html",
        project=loaded,
        report=report,
        name=lambda code_id: code_name(loaded.codebook, code_id, lang),
        **words(request, loaded),
    )


def _example(loaded: Any, ref: Any) -> str:
    """A coded passage's own words (例句) and the source it is from, shortened for a table."""
    source = loaded.sources.get(ref.source_id)
    if source is None:
        return ""
    words = source.text[ref.start : ref.end].strip()
    short = words if len(words) <= 60 else words[:59] + "…"
    return f"「{short}」（{source.name}）"


@router.get("/evidence/{project}/analysis", response_class=HTMLResponse)
def analysis_page(request: Request, project: str, who: Who) -> Response:
    _read(who, request, project)
    engine = engine_of(request)
    loaded = ev.get_project(engine, project)
    report = ev.analysis_report(engine, project)
    lang = page_language(request)
    stage_names = {
        "heterogeneity": "异质性" if lang != "en" else "heterogeneity",
        "guidance": "党建引领" if lang != "en" else "Party guidance",
        "leadership_tools": "领袖与治理工具" if lang != "en" else "leaders and tools",
        "cooperation": "合作水平" if lang != "en" else "cooperation",
        "coproduction": "合作生产" if lang != "en" else "co-production",
    }
    path_chart = {
        "kind": "path",
        "nodes": [
            {"name": stage_names.get(s, s), "value": report.path.segments_per_stage.get(s, 0)}
            for s in report.path.stages
        ],
        "links": [
            {
                "source": stage_names.get(link.antecedent, link.antecedent),
                "target": stage_names.get(link.consequent, link.consequent),
                "label": f"+{link.supporting} / −{link.contradicting}",
            }
            for link in report.path.links
        ],
    }
    top = [c for c in report.cooccurrence.codes if report.cooccurrence.frequency.get(c, 0) > 0]
    top = sorted(top, key=lambda c: -report.cooccurrence.frequency.get(c, 0))[:14]
    heat = {
        "kind": "heatmap",
        "axis_name": "编码" if lang != "en" else "code",
        "labels": [code_name(loaded.codebook, c, lang) for c in top],
        "cells": [
            [i, j, report.cooccurrence.get(a, b)]
            for i, a in enumerate(top)
            for j, b in enumerate(top)
            if a != b and report.cooccurrence.get(a, b)
        ],
    }
    saturation_chart = {
        "kind": "lines",
        "x": [
            f"{i}. {loaded.sources[s.source_id].name}"
            if s.source_id in loaded.sources
            else s.source_id
            for i, s in enumerate(report.saturation, start=1)
        ],
        "x_name": "按加入顺序的资料" if lang != "en" else "sources, in the order added",
        "y_max": None,
        "y_name": "编码数" if lang != "en" else "codes",
        "series": [
            {
                "name": "累计编码" if lang != "en" else "codes so far",
                "data": [s.codes_so_far for s in report.saturation],
            },
            {
                "name": "新增编码" if lang != "en" else "new codes",
                "data": [len(s.new_codes) for s in report.saturation],
            },
        ],
    }
    return render(
        request,
        "evidence/analysis.html",
        project=loaded,
        report=report,
        path_chart=path_chart,
        heat=heat,
        saturation_chart=saturation_chart,
        example=lambda ref: _example(loaded, ref),
        stage_names=stage_names,
        name=lambda code_id: code_name(loaded.codebook, code_id, lang),
        **words(request, loaded),
    )
