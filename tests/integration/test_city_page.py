"""The housing bureau's city page: every street's counts and a page of units, filtered by stage."""

from __future__ import annotations

from test_web import Site, site  # noqa: F401 - the demo site fixture

from colift.services.summary import unit_lines


def test_the_city_page_shows_every_street_and_pages_through_units(site: Site) -> None:  # noqa: F811
    client, _ = site.signed_in("admin")
    page = client.get("/city")
    assert page.status_code == 200
    assert "城市总览" in page.text
    assert "洪家楼街道" in page.text
    lines = unit_lines(site.engine)
    assert f">{len(lines)}</b>" in page.text  # the units stat counts every line
    voting = client.get("/city?stage=vote")
    in_vote = [x for x in lines.values() if x.stage == "vote"]
    assert in_vote, "the demo has units in the vote stage"
    for line in lines.values():
        shown = f'href="/units/{line.unit_id}"' in voting.text
        assert shown == (line.stage == "vote"), line.label
    assert "下一页" not in page.text  # 24 units: one page


def test_a_street_office_of_one_street_may_not_read_the_city(site: Site) -> None:  # noqa: F811
    client, _ = site.signed_in("street")
    assert client.get("/city").status_code == 403
    assert 'href="/city"' not in client.get("/street").text


def test_the_city_counts_stages_in_the_order_a_project_goes(site: Site) -> None:  # noqa: F811
    from colift.model.coproduction import STAGE_ORDER, Stage
    from colift.services.summary import city_overview

    keys = [g.key for g in city_overview(site.engine).by_stage]
    order = [s.value for s in (*STAGE_ORDER, Stage.SUSPENDED)]
    assert len(keys) > 3, "the demo spreads its units over several stages"
    assert keys == sorted(keys, key=order.index)
