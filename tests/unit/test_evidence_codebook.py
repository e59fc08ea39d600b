"""The default codebook (the path model as grounded-theory codes), its loader and its edits."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from colift.coproduction.catalogue import load_catalogue
from colift.errors import BadInput, NotFound
from colift.evidence.codebook import (
    CONTRADICTS,
    COOPERATION_LEVELS,
    CORE_ID,
    FAILURE,
    Codebook,
    EditOp,
    codebook_to_toml,
    default_codebook,
    load_codebook,
    merge,
    move,
    parse_codebook,
    rename,
    split,
)
from colift.evidence.model import Code, CodeLevel
from colift.model.roles import LEADER_ROLES

AXIAL = {"heterogeneity", "guidance", "leadership", "tools", "cooperation", "outcome", "analytic"}


def test_default_codebook_is_the_path_model() -> None:
    cb = default_codebook()
    assert [c.id for c in cb.roots()] == [CORE_ID]
    assert cb.get(CORE_ID).level is CodeLevel.CORE
    assert {c.id for c in cb.children(CORE_ID)} == AXIAL
    assert all(c.level is CodeLevel.AXIAL for c in cb.children(CORE_ID))
    assert {c.id for c in cb.children("guidance")} == {"guidance.direct", "guidance.embedded"}
    assert {c.id for c in cb.children("leadership")} == {f"role.{r.value}" for r in LEADER_ROLES}
    assert {c.id for c in cb.children("cooperation")} == set(COOPERATION_LEVELS)
    assert sorted(COOPERATION_LEVELS.values()) == [0, 1, 2, 3, 4]
    assert FAILURE in cb and CONTRADICTS in cb
    hetero = {c.id for c in cb.children("heterogeneity")}
    for needed in ("low_floor_loss", "floor_interest", "ability_to_pay", "tenure", "age_need"):
        assert f"heterogeneity.{needed}" in hetero


def test_every_code_is_documented() -> None:
    for code in default_codebook():
        assert code.name and code.name_en and code.definition, code.id
        assert re.fullmatch(r"#[0-9A-F]{6}", code.color), code.id
        if code.level is CodeLevel.OPEN:
            assert code.include and code.exclude, code.id
            assert code.examples and re.search(r"[\u4e00-\u9fff]", code.examples[0]), code.id
            assert code.triggers, code.id
            assert any(re.search(r"[\u4e00-\u9fff]", t) for t in code.triggers), code.id


def test_tool_codes_mirror_the_tool_catalogue() -> None:
    cb = default_codebook()
    catalogue = load_catalogue()
    assert [c.id for c in cb.tool_codes()] == [f"tool.{t.id}" for t in catalogue]
    for tool in catalogue:
        code = cb.get(f"tool.{tool.id}")
        assert code.parent == "tools"
        assert code.name == tool.name_zh
        assert code.name_en.casefold() == tool.name_en.casefold()
        assert code.definition == tool.description_zh


def test_tree_navigation() -> None:
    cb = default_codebook()
    assert [c.id for c in cb.ancestors("tool.door_to_door")] == ["tools", CORE_ID]
    assert cb.depth(CORE_ID) == 0 and cb.depth("guidance.embedded") == 2
    assert cb.is_under("role.action_leader", "leadership")
    assert not cb.is_under("role.action_leader", "tools")
    walked = [c.id for c in cb.walk()]
    assert sorted(walked) == sorted(cb.ids()) and walked[0] == CORE_ID
    assert len(cb.descendants(CORE_ID)) == len(cb) - 1


def test_get_unknown_code_is_not_found_with_a_hint() -> None:
    with pytest.raises(NotFound, match=r"guidance\.embedded"):
        default_codebook().get("guidance.embeded")


def _code(cid: str, parent: str | None = None) -> Code:
    return Code(id=cid, name=cid, name_en=cid, parent=parent)


def test_validation_refuses_duplicates_unknown_parents_and_cycles() -> None:
    with pytest.raises(BadInput, match="listed twice"):
        Codebook([_code("a"), _code("a")])
    with pytest.raises(BadInput, match="parent 'zz'"):
        Codebook([_code("a", "zz")])
    with pytest.raises(BadInput, match="cycle"):
        Codebook([_code("a", "c"), _code("b", "a"), _code("c", "b")])
    with pytest.raises(BadInput, match="white space"):
        Codebook([_code("a b")])


def test_load_refuses_unknown_fields_by_name(tmp_path: Path) -> None:
    path = tmp_path / "cb.toml"
    path.write_text('[[code]]\nid = "a"\nname = "甲"\ntrigers = ["x"]\n', encoding="utf-8")
    with pytest.raises(BadInput, match=r"unknown field 'trigers'.*triggers"):
        load_codebook(path)
    path.write_text('nmae = "x"\n[[code]]\nid = "a"\nname = "甲"\n', encoding="utf-8")
    with pytest.raises(BadInput, match="'nmae'"):
        load_codebook(path)
    with pytest.raises(BadInput, match="level"):
        parse_codebook('[[code]]\nid = "a"\nname = "甲"\nlevel = "deep"\n')
    with pytest.raises(BadInput, match="RRGGBB"):
        parse_codebook('[[code]]\nid = "a"\nname = "甲"\ncolor = "red"\n')
    with pytest.raises(BadInput, match="cannot read"):
        load_codebook(tmp_path / "missing.toml")


def test_toml_round_trip(tmp_path: Path) -> None:
    cb = default_codebook()
    path = tmp_path / "cb.toml"
    path.write_text(codebook_to_toml(cb), encoding="utf-8")
    assert load_codebook(path) == cb


def test_merge_moves_children_and_remaps_codings() -> None:
    cb = Codebook(
        [
            _code("r"),
            replace(_code("a", "r"), triggers=("甲",)),
            _code("a1", "a"),
            replace(_code("b", "r"), triggers=("乙",)),
        ]
    )
    new, edit = merge(cb, "a", "b")
    assert "a" not in new and new.get("a1").parent == "b"
    assert new.get("b").triggers == ("乙", "甲")
    assert edit.op is EditOp.MERGE and dict(edit.remap) == {"a": "b"}
    assert edit.to_dict()["into"] == ["b"]
    # merging a parent into its own child: the child takes the parent's place
    new, _ = merge(cb, "a", "a1")
    assert new.get("a1").parent == "r"
    with pytest.raises(BadInput, match="itself"):
        merge(cb, "a", "a")
    assert "a" in cb  # the original is untouched


def test_split_keep_and_replace() -> None:
    cb = Codebook([_code("r"), _code("a", "r"), _code("a1", "a")])
    new, edit = split(cb, "a", [_code("x"), _code("y")], keep=True)
    assert {c.id for c in new.children("a")} == {"a1", "x", "y"}
    assert edit.recode == ()
    new, edit = split(cb, "a", [_code("x"), _code("y")])
    assert "a" not in new
    assert new.get("x").parent == "r" and new.get("a1").parent == "x"
    assert edit.recode == ("a",) and edit.into == ("x", "y")
    with pytest.raises(BadInput, match="already taken"):
        split(cb, "a", [_code("a1")])


def test_move_refuses_cycles() -> None:
    cb = Codebook([_code("r"), _code("a", "r"), _code("a1", "a"), _code("b", "r")])
    new, edit = move(cb, "a", "b")
    assert [c.id for c in new.ancestors("a1")] == ["a", "b", "r"]
    assert dict(edit.before) == {"parent": "r"} and dict(edit.after) == {"parent": "b"}
    with pytest.raises(BadInput, match="subtree"):
        move(cb, "a", "a1")
    new, _ = move(cb, "a", None)
    assert {c.id for c in new.roots()} == {"r", "a"}


def test_rename_names_and_id() -> None:
    cb = default_codebook()
    new, edit = rename(cb, "guidance", name="党建引领")
    assert new.get("guidance").name == "党建引领"
    assert dict(edit.after) == {"name": "党建引领"} and not edit.remap
    new, edit = rename(cb, "guidance", new_id="party_guidance")
    assert "guidance" not in new
    assert new.get("guidance.direct").parent == "party_guidance"
    assert dict(edit.remap) == {"guidance": "party_guidance"}
    with pytest.raises(BadInput, match="already taken"):
        rename(cb, "guidance", new_id="tools")
