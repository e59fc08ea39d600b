"""The street office's page: a long street's unit list in pages of 50, filtered by compound, stage
and stalled-or-all, while the counts and the funnel stay totals over the whole street."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from test_web import Site, site  # noqa: F401 - the demo site fixture

from colift.model import Building, Compound, Unit
from colift.model.coproduction import Stage
from colift.services.summary import refresh_all, unit_lines
from colift.services.views import street_board
from colift.store import UnitOfWork
from colift.store.tables import unit_summaries


def _add_long_compound(demo: Site, n: int, code: str = "long1") -> tuple[str, str, list[int]]:
    """A compound of `n` units on the demo street; the first n-20 stalled in the vote stage,
    the last 20 recently in design."""
    with UnitOfWork(demo.engine) as uow:
        street = uow.compounds.get_by_code(demo.code).street
        compound = uow.compounds.add(
            Compound(
                name="长街测试小区",
                city="济南",
                district="历城区",
                street=street,
                community="测试社区",
                built_year=1992,
                consent_profile="cn-civil-code-278",
            ),
            code=code,
        )
        assert compound.id is not None
        made: list[int] = []
        for b in range(1, n // 4 + 1):
            building = uow.buildings.add(
                Building(compound_id=compound.id, number=str(b), storeys=6)
            )
            assert building.id is not None
            for u in range(1, 5):
                unit = uow.units.add(Unit(building_id=building.id, number=str(u)))
                assert unit.id is not None
                made.append(unit.id)
        uow.commit()
    refresh_all(demo.engine, 200)
    today = date.today()
    with demo.engine.begin() as conn:
        conn.execute(
            update(unit_summaries)
            .where(unit_summaries.c.unit_id.in_(made[:-20]))
            .values(stage="vote", stage_since=today - timedelta(days=200))
        )
        conn.execute(
            update(unit_summaries)
            .where(unit_summaries.c.unit_id.in_(made[-20:]))
            .values(stage="design", stage_since=today - timedelta(days=10))
        )
    return street, code, made


def _listed(html: str) -> list[int]:
    section = html[
        html.index('id="unit-list"') : html.index("</section>", html.index('id="unit-list"'))
    ]
    return [int(x) for x in re.findall(r'href="/units/(\d+)"', section)]


def _stat(html: str, name: str) -> int:
    found = re.search(rf'id="{name}"><b>(\d+)</b>', html)
    assert found, name
    return int(found.group(1))


def test_the_street_page_pages_and_filters_a_long_street(site: Site) -> None:  # noqa: F811
    street, code, made = _add_long_compound(site, 120)
    client, _ = site.signed_in("street")
    on_street = [x for x in unit_lines(site.engine).values() if x.street == street]
    whole = street_board(site.engine, street)
    assert whole.units == len(on_street) >= 120

    first = client.get(f"/street?compound={code}&show=all")
    assert first.status_code == 200
    page1 = _listed(first.text)
    assert len(page1) == 50
    assert "第 1 页，共 3 页" in first.text
    assert "page=2" in first.text and "下一页" in first.text
    third = client.get(f"/street?compound={code}&show=all&page=3")
    page3 = _listed(third.text)
    assert len(page3) == 20
    page2 = _listed(client.get(f"/street?compound={code}&show=all&page=2").text)
    assert sorted(page1 + page2 + page3) == sorted(made)  # every unit once, none twice

    design = _listed(client.get(f"/street?compound={code}&stage=design&show=all").text)
    assert sorted(design) == sorted(made[-20:])
    stalled = client.get(f"/street?compound={code}")
    assert "第 1 页，共 2 页" in stalled.text  # 100 stalled units
    assert set(_listed(stalled.text)) <= set(made[:-20])
    assert not set(_listed(stalled.text)) & set(made[-20:])

    # the totals are the whole street's, whatever the filters and the page
    for html in (first.text, third.text, stalled.text):
        assert _stat(html, "street-units") == len(on_street)
        assert _stat(html, "street-stalled") == whole.stalled >= 100
    assert dict(whole.funnel())[whole.funnel()[0][0]] == len(on_street)


def test_a_bad_page_number_shows_a_page_and_says_so(site: Site) -> None:  # noqa: F811
    _, code, _ = _add_long_compound(site, 120)
    client, _ = site.signed_in("street")
    # a NUL is refused before any page sees it (api/limits.InputGuard): a clear 422, not a 500
    nul = client.get(f"/street?compound={code}&show=all&page=%00")
    assert nul.status_code == 422
    for bad in ("abc", "-1", "0", "999999", "1e9", ""):
        page = client.get(f"/street?compound={code}&show=all&page={bad}")
        assert page.status_code == 200, bad
        assert _listed(page.text), bad
        assert "页码无效或超出范围" in page.text, bad
    last = client.get(f"/street?compound={code}&show=all&page=999999")
    assert sorted(_listed(last.text)) == sorted(
        _listed(client.get(f"/street?compound={code}&show=all&page=3").text)
    )
    assert client.get("/street?stage=nonsense&compound=nowhere").status_code == 200


def test_the_street_page_sums_the_street_once_not_once_per_compound(
    site: Site,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The compounds' table asked the whole street's funnel again in every row: quadratic in
    the compounds, 5 s for a city of 800. Counted, not timed: at most a few sums a page, and
    the same number for one compound or several. The regeneration outcomes are read once."""
    from colift.services import regeneration
    from colift.services.views import StreetBoard

    client, _ = site.signed_in("street")
    calls = {"funnel": 0, "regeneration": 0}
    funnel, outcomes = StreetBoard.funnel, regeneration.compounds_regeneration

    def counted_funnel(self: StreetBoard) -> list[tuple[Stage, int]]:
        calls["funnel"] += 1
        return funnel(self)

    def counted_outcomes(*args: Any, **kwargs: Any) -> Any:
        calls["regeneration"] += 1
        return outcomes(*args, **kwargs)

    monkeypatch.setattr(StreetBoard, "funnel", counted_funnel)
    monkeypatch.setattr(regeneration, "compounds_regeneration", counted_outcomes)
    seen = []
    for extra in (0, 2):
        for k in range(extra):
            _add_long_compound(site, 24, code=f"more{k}")
        calls.update(funnel=0, regeneration=0)
        page = client.get("/street?show=all")
        assert page.status_code == 200
        compounds = page.text.count('<tr><td><a href="/compounds/')
        seen.append((compounds, dict(calls)))
    assert seen[1][0] > seen[0][0]  # more compounds listed ...
    assert seen[0][1] == seen[1][1]  # ... and not one sum more
    assert seen[0][1]["funnel"] <= 3 and seen[0][1]["regeneration"] == 1
