"""Who may call what: every /api/v1 endpoint × every role, on SQLite and PostgreSQL.

The callers are real accounts (bearer tokens from `create_api_token`, sessions from `sign_in`)
scoped to the demo compound, its unit 2栋1单元 and one of its flats, each beside a twin scoped
to something else: a worker of another compound, the leader of another unit, the resident of
another flat in the same unit, the street office of another street. The table below must cover
every path and method of the OpenAPI description, so an endpoint added without a row fails.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.http.auth import CSRF_HEADER, SESSION_COOKIE
from colift.model.accounts import Account, AccountRole
from colift.services.accounts import create_account, create_api_token, issue_api_token, sign_in
from colift.services.consent import open_vote_round, raise_objection, unit_rounds
from colift.services.demo import seed_demo
from colift.services.evidence import DEMO_PROJECT, create_project
from colift.services.registry import CompoundDetails, create_compound, get_compound, list_units
from colift.services.views import unit_page
from colift.services.workflow import unit_stage
from colift.store import make_engine, migrate

API = "/api/v1"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
PASSWORD = "matrix-password-1"
UNIT_LABEL = "2栋1单元"
OTHER_CODE = "other-compound"
OTHER_STREET = "另一街道"

ROLES = (
    "worker",
    "worker_other",
    "leader",
    "leader_other",
    "resident",
    "resident_other",
    "street",
    "street_other",
    "admin",
    "anonymous",
)
SIGNED_IN = tuple(r for r in ROLES if r != "anonymous")
# who may do what to unit 2栋1单元, its flat `room` and the demo compound
READERS = frozenset({"worker", "leader", "resident", "resident_other", "street", "admin"})
NOT_RESIDENTS = READERS - {"resident", "resident_other"}
LEADS = frozenset({"worker", "leader", "admin"})
MANAGERS = frozenset({"worker", "admin"})
FOR_ROOM = frozenset({"worker", "leader", "resident", "admin"})
COMPOUND_READERS = frozenset({"worker", "street", "admin"})
STREET = frozenset({"street", "street_other", "admin"})
ADMIN = frozenset({"admin"})


@dataclass
class World:
    engine: Engine
    client: TestClient
    code: str
    unit: int
    other_unit: int
    room: str
    other_room: str
    tokens: dict[str, str]
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def headers(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _engine(request: pytest.FixtureRequest, tmp: Any) -> tuple[Engine, Callable[[], None]]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / 'colift.db'}")
        migrate(engine)
        return engine, engine.dispose
    server = request.getfixturevalue("postgres_server")
    name = server.create(template=server.migrated_template())
    engine = make_engine(server.url(name))

    def close() -> None:
        engine.dispose()
        server.drop(name)

    return engine, close


def make_accounts(engine: Engine, code: str, unit: int, other_unit: int, rooms: list[str]) -> None:
    """The nine signed-in callers of the matrix (argon2: about 50 ms each, made once)."""
    street = get_compound(engine, code).street
    create_compound(
        engine, OTHER_CODE, CompoundDetails(name="另一小区", city="济南", street=OTHER_STREET)
    )
    scoped = {
        "worker": dict(role=AccountRole.WORKER, compound_code=code),
        "worker_other": dict(role=AccountRole.WORKER, compound_code=OTHER_CODE),
        "leader": dict(role=AccountRole.UNIT_LEADER, compound_code=code, unit_id=unit),
        "leader_other": dict(role=AccountRole.UNIT_LEADER, compound_code=code, unit_id=other_unit),
        "resident": dict(
            role=AccountRole.RESIDENT, compound_code=code, unit_id=unit, room=rooms[0]
        ),
        "resident_other": dict(
            role=AccountRole.RESIDENT, compound_code=code, unit_id=unit, room=rooms[1]
        ),
        "street": dict(role=AccountRole.STREET_VIEWER, street=street),
        "street_other": dict(role=AccountRole.STREET_VIEWER, street=OTHER_STREET),
        "admin": dict(role=AccountRole.ADMIN),
    }
    for name, scope in scoped.items():
        create_account(engine, Account(0, f"m-{name}", f"matrix {name}", **scope), PASSWORD)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    engine, close = _engine(request, tmp_path_factory.mktemp("matrix"))
    try:
        code, _ = seed_demo(engine)
        units = list_units(engine, code)
        unit = next(u.id for u in units if u.label == UNIT_LABEL)
        other_unit = next(u.id for u in units if u.id != unit)
        rooms = [f.room for floor in reversed(unit_page(engine, unit).floors) for f in floor]
        make_accounts(engine, code, unit, other_unit, rooms)
        tokens = {r: create_api_token(engine, f"m-{r}", "matrix") for r in SIGNED_IN}
        create_project(engine, UNSCOPED_PROJECT, actor="matrix")
        create_project(engine, SHARED_PROJECT, actor="matrix", shared=True)
        app = create_app(engine, secure_cookies=False)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield World(engine, client, code, unit, other_unit, rooms[0], rooms[1], tokens)
    finally:
        close()


# --- the table ---------------------------------------------------------------------------------

Request = dict[str, Any]  # keyword arguments of TestClient.request


def roster_csv(building: int) -> bytes:
    header = "楼栋,单元,总层数,楼层,房号,面积(㎡),业主,联系电话,居住状态,表决\n"
    rows = [f"{building},1,6,{f},{f}0{i},60.5,业主{f}{i},,自住,\n" for f in (1, 2) for i in (1, 2)]
    return (header + "".join(rows)).encode()


def _roster_preview_url(suffix: str) -> Callable[[World], str]:
    """A fresh preview (adding one new building) of the world's compound, for each call."""

    def url(w: World) -> str:
        from colift.services.roster_update import preview_roster_update

        data = roster_csv(90 + next(w.counter))
        made = preview_roster_update(w.engine, data, "roster.csv", w.code, actor="matrix")
        return f"{API}/compounds/{w.code}/roster/previews/{made.preview_id}{suffix}"

    return url


def _stage_move(w: World) -> Request:
    """Suspend the unit, or resume it: every allowed call is a legal move."""
    project = unit_stage(w.engine, w.unit)
    if project.suspended_from is not None:
        return {"json": {"target": project.suspended_from.value, "reason": "resume"}}
    return {"json": {"target": "suspended", "reason": "waiting for the mediation"}}


def _fresh_objection(w: World) -> str:
    made = raise_objection(w.engine, w.unit, w.room, ["noise"], actor="matrix")
    return f"{API}/objections/{made}/status"


def _open_round_url(action: str) -> Callable[[World], str]:
    def url(w: World) -> str:
        current = next((r for r in unit_rounds(w.engine, w.unit) if r.is_open), None)
        if current is None:
            current = open_vote_round(w.engine, w.unit, actor="matrix", title="matrix")
        return f"{API}/rounds/{current.id}/{action}"

    return url


def _fresh_account_url(action: str) -> Callable[[World], str]:
    def url(w: World) -> str:
        name = f"life-{next(w.counter)}"
        create_account(w.engine, Account(0, name, name, AccountRole.STREET_VIEWER), PASSWORD)
        return f"{API}/accounts/{name}/{action}"

    return url


def _fresh_worker_token(w: World) -> str:
    made = issue_api_token(w.engine, "m-worker", "to revoke")
    return f"{API}/tokens/{made.info.id}/revoke"


PLAN = {
    "total_fen": 42000000,
    "scheme": {
        "kind": "floor-coefficient",
        "coefficients": {"1": "0", "2": "0.4", "3": "0.7", "4": "0.85", "5": "1.0", "6": "1.1"},
        "area_weighted": True,
    },
    "compensation": [{"floors": [1], "fen_each": 300000}],
}


@dataclass(frozen=True)
class Case:
    """One request to one endpoint, and which callers it lets through."""

    method: str
    template: str  # the path as the OpenAPI names it
    allowed: frozenset[str]
    url: Callable[[World], str]
    request: Callable[[World], Request] = lambda w: {}
    ok: frozenset[int] | None = frozenset({200})  # None: any answer but 401, 403 and 5xx
    refused: dict[str, int] = field(default_factory=dict)  # other answers than 403
    name: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.template}{' ' + self.name if self.name else ''}"

    def expected(self, role: str) -> int | frozenset[int] | None:
        if role == "anonymous":
            return 401
        if role in self.allowed:
            return self.ok
        return self.refused.get(role, 403)

    def accepts(self, status: int) -> bool:
        if self.ok is None:
            return status not in (401, 403) and status < 500
        return status in self.ok


def unit_url(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"{API}/units/{w.unit}{suffix}"


def compound_url(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"{API}/compounds/{w.code}{suffix}"


def fixed(path: str) -> Callable[[World], str]:
    return lambda w: f"{API}{path}"


CASES = [
    Case("GET", "/me", frozenset(SIGNED_IN), fixed("/me")),
    Case("GET", "/compounds", frozenset(SIGNED_IN), fixed("/compounds")),
    Case("GET", "/compounds/{code}/report", COMPOUND_READERS, compound_url("/report")),
    Case("GET", "/compounds/{code}/overview", COMPOUND_READERS, compound_url("/overview")),
    Case("GET", "/compounds/{code}/regeneration", COMPOUND_READERS, compound_url("/regeneration")),
    Case(
        "POST",
        "/compounds/{code}/regeneration",
        MANAGERS,
        compound_url("/regeneration"),
        lambda w: {"json": {"kind": "volunteer_duty", "title": "电梯志愿值守", "households": 3}},
        ok=frozenset({201}),
    ),
    Case(
        "POST",
        "/compounds/{code}/roster",
        MANAGERS,
        compound_url("/roster"),
        lambda w: {
            "files": {"roster": ("roster.csv", roster_csv(90 + next(w.counter)), "text/csv")}
        },
        ok=frozenset({201}),
    ),
    Case(
        "POST",
        "/compounds/{code}/roster/previews",
        MANAGERS,
        compound_url("/roster/previews"),
        lambda w: {
            "files": {"roster": ("roster.csv", roster_csv(90 + next(w.counter)), "text/csv")}
        },
        ok=frozenset({201}),
    ),
    Case(
        "GET",
        "/compounds/{code}/roster/previews/{preview_id}",
        MANAGERS,
        _roster_preview_url(""),
    ),
    Case(
        "POST",
        "/compounds/{code}/roster/previews/{preview_id}/confirm",
        MANAGERS,
        _roster_preview_url("/confirm"),
    ),
    Case("GET", "/street", STREET, fixed("/street")),
    Case("GET", "/street/units", STREET, fixed("/street/units")),
    Case("GET", "/city", ADMIN, fixed("/city")),
    Case("GET", "/units/{unit_id}", READERS, unit_url()),
    Case("GET", "/units/{unit_id}/advice", NOT_RESIDENTS, unit_url("/advice")),
    Case("GET", "/units/{unit_id}/activities", NOT_RESIDENTS, unit_url("/activities")),
    Case(
        "POST",
        "/units/{unit_id}/activities",
        LEADS,
        unit_url("/activities"),
        lambda w: {
            "json": {
                "tool": "door_to_door",
                "role": "unit_leader",
                "targets": [w.room],
                "notes": "visited",
                "participants": 1,
            }
        },
        ok=frozenset({201}),
    ),
    Case(
        "POST",
        "/units/{unit_id}/stances",
        LEADS,
        unit_url("/stances"),
        lambda w: {"json": {"room": w.room, "stance": "undecided", "reasons": ["cost"]}},
    ),
    Case("GET", "/units/{unit_id}/objections", READERS, unit_url("/objections")),
    Case(
        "PUT",
        "/units/{unit_id}/cost-plan",
        MANAGERS,
        unit_url("/cost-plan"),
        lambda w: {"json": PLAN},
    ),
    Case("GET", "/units/{unit_id}/cost-plan", READERS, unit_url("/cost-plan")),
    Case("GET", "/units/{unit_id}/stage", READERS, unit_url("/stage")),
    Case("POST", "/units/{unit_id}/stage", MANAGERS, unit_url("/stage"), _stage_move),
    Case("GET", "/units/{unit_id}/steps", READERS, unit_url("/steps")),
    Case(
        "POST",
        "/units/{unit_id}/steps",
        MANAGERS,
        unit_url("/steps"),
        lambda w: {"json": {"step": "pipeline_survey", "reference": "踏勘记录1号"}},
    ),
    Case(
        "GET",
        "/units/{unit_id}/documents/{kind}",
        READERS,
        unit_url("/documents/survey"),
        name="survey",
    ),
    Case(
        "GET",
        "/units/{unit_id}/documents/{kind}",
        READERS,
        unit_url("/documents/notice"),
        name="notice",
    ),
    Case(
        "GET",
        "/units/{unit_id}/documents/{kind}",
        READERS,  # a resident reads their own copy (their flat's line only)
        unit_url("/documents/signatures"),
        name="signatures",
    ),
    Case(
        "GET",
        "/units/{unit_id}/documents/{kind}",
        READERS,  # a resident reads their own copy (their flat's line only)
        unit_url("/documents/agreement"),
        name="agreement",
    ),
    Case(
        "GET",
        "/units/{unit_id}/whatif",
        NOT_RESIDENTS,
        unit_url("/whatif"),
        lambda w: {"params": {"runs": 2, "seed": 1}},
    ),
    # a round first, so the votes below find one open; another open round is the rule's 409
    Case(
        "POST",
        "/rounds",
        MANAGERS,
        fixed("/rounds"),
        lambda w: {"json": {"unit_id": w.unit, "title": "matrix"}},
        ok=frozenset({201, 409}),
    ),
    Case(
        "POST",
        "/votes",
        FOR_ROOM,
        fixed("/votes"),
        lambda w: {"json": {"unit_id": w.unit, "room": w.room, "vote": "agree"}},
    ),
    Case(
        "POST",
        "/objections",
        FOR_ROOM,
        fixed("/objections"),
        lambda w: {"json": {"unit_id": w.unit, "room": w.room, "reasons": ["light"]}},
        ok=frozenset({201}),
    ),
    Case(
        "POST",
        "/objections/{objection_id}/status",
        MANAGERS,
        _fresh_objection,
        lambda w: {"json": {"status": "negotiation", "notes": "talked"}},
        # another compound's worker is told the objection does not exist in its compound
        refused={"worker_other": 404},
    ),
    Case("GET", "/accounts", ADMIN, fixed("/accounts")),
    Case(
        "POST",
        "/accounts",
        ADMIN,
        fixed("/accounts"),
        lambda w: {
            "json": {
                "username": f"made-{next(w.counter)}",
                "password": "a-long-password",
                "role": "street_viewer",
            }
        },
        ok=frozenset({201}),
    ),
    Case(
        "POST",
        "/accounts/{username}/tokens",
        ADMIN,
        fixed("/accounts/m-worker/tokens"),
        lambda w: {"json": {"label": "script"}},
        ok=frozenset({201}),
    ),
    # the lifecycle: each call acts on a fresh account or token, never on a caller's own
    Case("GET", "/accounts/{username}/tokens", ADMIN, fixed("/accounts/m-worker/tokens")),
    Case("GET", "/me/tokens", frozenset(SIGNED_IN), fixed("/me/tokens")),
    Case(
        "POST",
        "/me/password",
        frozenset(SIGNED_IN),
        fixed("/me/password"),
        # a wrong current password: every signed-in caller reaches the check, none changes
        lambda w: {"json": {"current_password": "not-it", "new_password": "a-new-long-one"}},
        ok=frozenset({400}),
    ),
    Case(
        "POST",
        "/tokens/{token_id}/revoke",
        frozenset({"worker", "admin"}),
        _fresh_worker_token,
        # another account's token reads as absent
        refused={r: 404 for r in SIGNED_IN if r not in ("worker", "admin")},
    ),
    Case("POST", "/accounts/{username}/disable", ADMIN, _fresh_account_url("disable")),
    Case("POST", "/accounts/{username}/enable", ADMIN, _fresh_account_url("enable")),
    Case("POST", "/accounts/{username}/unlock", ADMIN, _fresh_account_url("unlock")),
    Case(
        "PUT",
        "/accounts/{username}/password",
        ADMIN,
        _fresh_account_url("password"),
        lambda w: {"json": {"password": "a-reset-password-9"}},
    ),
    # the end of vote rounds: each call finds (or opens) an open round of the unit to end
    Case("GET", "/units/{unit_id}/rounds", READERS, unit_url("/rounds")),
    Case(
        "POST",
        "/rounds/{round_id}/close",
        MANAGERS,
        _open_round_url("close"),
        lambda w: {"json": {}},
    ),
    Case(
        "POST",
        "/rounds/{round_id}/void",
        MANAGERS,
        _open_round_url("void"),
        lambda w: {"json": {"reason": "matrix"}},
    ),
]


# Research evidence: a project belongs to a compound. Its workers read and write it, its street
# office reads it, admins do everything; a worker of another compound and another street's office
# are refused. A project without a compound is admins' only unless an admin shared it. The
# role-only rows (no project, or one that does not exist) let every evidence role past the role
# check to the endpoint's own 404 or 422; the project rows use a real project of each kind, with
# bodies that fail validation, so nothing changes.
EVIDENCE_READERS = frozenset({"worker", "worker_other", "street", "street_other", "admin"})
EVIDENCE_WRITERS = frozenset({"worker", "worker_other", "admin"})
DEMO_READERS = frozenset({"worker", "street", "admin"})
DEMO_WRITERS = frozenset({"worker", "admin"})
EVIDENCE = [
    ("GET", "/evidence/projects", "read"),
    ("POST", "/evidence/projects", "write"),
    ("GET", "/evidence/projects/{project}", "read"),
    ("PUT", "/evidence/projects/{project}/scope", "admin"),
    ("POST", "/evidence/projects/{project}/sources", "write"),
    ("GET", "/evidence/projects/{project}/sources/{source}", "read"),
    ("POST", "/evidence/projects/{project}/sources/{source}/cases", "write"),
    ("POST", "/evidence/projects/{project}/sources/{source}/links", "write"),
    ("POST", "/evidence/projects/{project}/cases", "write"),
    ("GET", "/evidence/projects/{project}/codings", "read"),
    ("POST", "/evidence/projects/{project}/codings", "write"),
    ("POST", "/evidence/projects/{project}/codings/remove", "write"),
    ("POST", "/evidence/projects/{project}/memos", "write"),
    ("GET", "/evidence/codebook", "read"),
    ("GET", "/evidence/projects/{project}/codebook", "read"),
    ("POST", "/evidence/projects/{project}/codebook/edits", "write"),
    ("POST", "/evidence/suggest", "read"),
    ("GET", "/evidence/projects/{project}/suggestions", "read"),
    ("POST", "/evidence/projects/{project}/suggestions/decisions", "write"),
    ("GET", "/evidence/projects/{project}/agreement", "read"),
    ("GET", "/evidence/projects/{project}/analysis", "read"),
    ("GET", "/evidence/projects/{project}/search", "read"),
    ("GET", "/evidence/projects/{project}/export.qdpx", "read"),
    ("GET", "/evidence/projects/{project}/export.qdc", "read"),
    ("GET", "/evidence/codebook.qdc", "read"),
    ("POST", "/evidence/import/qdpx", "write"),
    ("POST", "/evidence/projects/{project}/import/qdc", "write"),
]
UNSCOPED_PROJECT = "matrix-admins-only"
SHARED_PROJECT = "matrix-shared"
# a query that exists on the GET rows that need one, and a body that fails validation on writes
_QUERY = {"q": "电梯", "source": "no-such-source", "start": "0", "end": "1"}


def _evidence_request(method: str) -> Callable[[World], Request]:
    if method == "GET":
        return lambda w: {"params": _QUERY}
    return lambda w: {"json": {"start": -1, "end": -1, "shared": "not-a-flag"}}


def _project_rows(
    project: str, kind: str, readers: frozenset[str], writers: frozenset[str]
) -> list[Case]:
    rows = []
    for method, template, access in EVIDENCE:
        if "{project}" not in template:
            continue
        allowed = {"read": readers, "write": writers, "admin": ADMIN}[access]
        rows.append(
            Case(
                method,
                template,
                allowed,
                fixed(template.format(project=project, source="no-such-source")),
                _evidence_request(method),
                ok=None,
                name=kind,
            )
        )
    return rows


CASES += [
    Case(
        method,
        template,
        {"read": EVIDENCE_READERS, "write": EVIDENCE_WRITERS, "admin": ADMIN}[kind],
        fixed(template.format(project="no-such-project", source="no-such-source")),
        (lambda w: {}) if method == "GET" else (lambda w: {"json": {}}),
        ok=None,
    )
    for method, template, kind in EVIDENCE
]
CASES += _project_rows(DEMO_PROJECT, "of the demo compound", DEMO_READERS, DEMO_WRITERS)
CASES += _project_rows(UNSCOPED_PROJECT, "without a compound", ADMIN, ADMIN)
CASES += _project_rows(SHARED_PROJECT, "shared", EVIDENCE_READERS, EVIDENCE_WRITERS)


def call(w: World, case: Case, headers: dict[str, str]) -> httpx.Response:
    return w.client.request(case.method, case.url(w), headers=headers, **case.request(w))


def assert_error_shape(response: httpx.Response) -> None:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    assert body["error"]["message"]


def test_the_table_covers_every_endpoint_of_the_openapi(world: World) -> None:
    schema = world.client.app.openapi()  # type: ignore[attr-defined]
    documented = {
        (method.upper(), path.removeprefix(API))
        for path, item in schema["paths"].items()
        for method in item
    }
    covered = {(c.method, c.template) for c in CASES}
    assert documented - covered == set(), "add a row to CASES for these endpoints"
    assert covered - documented == set(), "these rows name endpoints that do not exist"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_role(world: World, case: Case) -> None:
    wrong = []
    for role in ROLES:
        response = call(world, case, world.headers(role))
        got = response.status_code
        right = case.accepts(got) if role in case.allowed else got == case.expected(role)
        if not right:
            want = case.expected(role)
            shown = "allowed" if want is None else want
            wrong.append(f"{role}: {got} (want {shown}) {response.text[:200]}")
        elif got >= 400:
            assert_error_shape(response)
    assert not wrong, "\n".join(wrong)


def test_a_bad_or_foreign_token_is_refused(world: World) -> None:
    for case in CASES:
        for headers in ({"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}):
            response = call(world, case, headers)
            assert response.status_code == 401, (case.id, response.text)
            assert_error_shape(response)


# --- sessions and CSRF -------------------------------------------------------------------------


def _cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={token}"}


WRITES = [c for c in CASES if c.method != "GET"]


@pytest.mark.parametrize("case", WRITES, ids=lambda c: c.id)
def test_a_session_write_needs_the_csrf_token(world: World, case: Case) -> None:
    session = sign_in(world.engine, "m-admin", PASSWORD, client="matrix")
    cookie = _cookie(session.token)
    missing = call(world, case, cookie)
    assert missing.status_code == 403, missing.text
    assert_error_shape(missing)
    assert "CSRF" in missing.json()["error"]["message"]
    stale = call(world, case, {**cookie, CSRF_HEADER: "not-the-token"})
    assert stale.status_code == 403, stale.text
    right = call(world, case, {**cookie, CSRF_HEADER: session.csrf})
    assert case.accepts(right.status_code), right.text


def test_a_session_read_needs_no_csrf_token_and_keeps_the_scope(world: World) -> None:
    session = sign_in(world.engine, "m-resident", PASSWORD, client="matrix")
    cookie = _cookie(session.token)
    assert world.client.get(f"{API}/units/{world.unit}", headers=cookie).status_code == 200
    other = world.client.get(f"{API}/units/{world.other_unit}", headers=cookie)
    assert other.status_code == 403
    vote = {"unit_id": world.unit, "room": world.other_room, "vote": "agree"}
    refused = world.client.post(
        f"{API}/votes", json=vote, headers={**cookie, CSRF_HEADER: session.csrf}
    )
    assert refused.status_code == 403, refused.text
    assert world.client.get(f"{API}/units/{world.unit}").status_code == 401


# --- what residents and scoped callers get back ------------------------------------------------


def _personal_data(w: World, room: str) -> list[str]:
    """Names and phones of every household of the unit except `room`'s."""
    out: list[str] = []
    for floor in unit_page(w.engine, w.unit).floors:
        for flat in floor:
            if flat.room == room:
                continue
            for person in flat.residents:
                out += [person.name, *([person.phone] if len(person.phone) >= 7 else [])]
    return [s for s in out if s]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("role", ["resident", "resident_other"])
def test_a_resident_never_sees_another_households_data(world: World, role: str) -> None:
    headers = world.headers(role)
    own = world.room if role == "resident" else world.other_room
    rooms = [f.room for floor in unit_page(world.engine, world.unit).floors for f in floor]
    others = set(rooms) - {own}
    # give the other flats votes, stances and objections to hide
    admin = world.headers("admin")
    world.client.post(f"{API}/rounds", json={"unit_id": world.unit}, headers=admin)
    for room in others:
        world.client.post(
            f"{API}/votes",
            json={"unit_id": world.unit, "room": room, "vote": "disagree"},
            headers=admin,
        )
    other = sorted(others - {world.room, world.other_room})[0]  # neither resident's own
    world.client.post(
        f"{API}/units/{world.unit}/stances",
        json={"room": other, "stance": "oppose", "reasons": ["light"]},
        headers=admin,
    )
    world.client.post(
        f"{API}/objections",
        json={"unit_id": world.unit, "room": other, "reasons": ["light"], "notes": "秘密理由"},
        headers=admin,
    )
    answers = {
        "unit": world.client.get(f"{API}/units/{world.unit}", headers=headers),
        "objections": world.client.get(f"{API}/units/{world.unit}/objections", headers=headers),
        "cost-plan": world.client.get(f"{API}/units/{world.unit}/cost-plan", headers=headers),
        "stage": world.client.get(f"{API}/units/{world.unit}/stage", headers=headers),
        "vote": world.client.post(
            f"{API}/votes",
            json={"unit_id": world.unit, "room": own, "vote": "agree"},
            headers=headers,
        ),
    }
    secrets = [*_personal_data(world, own), "秘密理由"]
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.text)
        text = response.text
        body = response.json()
        leaked = [s for s in secrets if s in text or s in json.dumps(body, ensure_ascii=False)]
        assert not leaked, (name, leaked)
        strings = set(_strings(body))
        assert not strings & others, (name, sorted(strings & others))
        assert "households" not in strings, name
    assert answers["unit"].json()["household"]["room"] == own
    assert answers["cost-plan"].json()["share"]["id"] == own
    for objection in answers["objections"].json():
        assert ("reasons" in objection) is objection["own"], objection
    assert answers["stage"].json()["gate"] is None


def test_scoped_lists_show_only_the_callers_compounds_and_street(world: World) -> None:
    def codes(role: str) -> set[str]:
        answer = world.client.get(f"{API}/compounds", headers=world.headers(role))
        return {c["code"] for c in answer.json()}

    assert codes("worker") == {world.code}
    assert codes("worker_other") == {OTHER_CODE}
    assert codes("street") == {world.code}
    assert codes("street_other") == {OTHER_CODE}
    assert codes("admin") >= {world.code, OTHER_CODE}
    assert codes("resident") == set()
    street = world.client.get(f"{API}/street", headers=world.headers("street_other")).json()
    assert [c["code"] for c in street["compounds"]] == [OTHER_CODE]
    mine = world.client.get(f"{API}/street", headers=world.headers("street")).json()
    assert world.code in [c["code"] for c in mine["compounds"]]
    assert OTHER_CODE not in [c["code"] for c in mine["compounds"]]
    elsewhere = world.client.get(
        f"{API}/street", params={"street": OTHER_STREET}, headers=world.headers("street")
    )
    assert elsewhere.status_code == 403
