"""Messages come from one catalog, in the reader's language; untranslated ones can only go away."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po

from colift.errors import BadInput, RuleViolation
from colift.i18n import Label, bilingual, legacy_side, msg

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import messages


def _catalog() -> dict[str, str]:
    with messages.PO.open("rb") as f:
        catalog = read_po(f)
    return {str(m.id): str(m.string) for m in catalog if m.id}


def test_a_message_renders_in_each_language_with_its_parameters() -> None:
    unit = Label(zh="2栋1单元", en="building 2 unit 1")
    err = RuleViolation("{unit} has no open vote round: open one before recording votes", unit=unit)
    assert err.render("en") == (
        "building 2 unit 1 has no open vote round: open one before recording votes"
    )
    assert err.render("zh-CN") == "2栋1单元没有进行中的表决轮次：请先发起表决，再登记表决意见"
    assert "2栋1单元没有" in err.message and "building 2 unit 1 has" in err.message  # CLI: both
    untranslated = msg("the {unit} is new", unit=unit)  # no catalog entry: English template
    assert untranslated.render("en") == "the building 2 unit 1 is new"
    assert untranslated.render("zh-CN") == "the 2栋1单元 is new"
    assert bilingual(unit) == "2栋1单元 / building 2 unit 1"
    assert bilingual(msg("{n}", n=3)) == "3"


def test_older_bilingual_strings_show_one_side() -> None:
    err = BadInput("请选择态度 / choose a stance")
    assert err.render("zh-CN") == "请选择态度"
    assert err.render("en") == "choose a stance"
    assert legacy_side("a / b", "zh-CN") == "a / b"  # no Chinese: not a bilingual pair
    assert BadInput("{not a field}").render("en") == "{not a field}"  # no params: as written


def test_every_new_message_in_the_code_is_translated() -> None:
    translated = {k for k, v in _catalog().items() if v}
    old = messages.legacy()
    untranslated = sorted(
        f"{m.path}:{m.line}: {m.text}"
        for m in messages.python_messages()
        if m.text not in old and (not m.translatable or m.text not in translated)
    )
    assert not untranslated, (
        "write these as templates with named parameters (no f-strings) and give their Chinese "
        "in tools/zh_cn.py, then run `python tools/zh_cn.py` (docs/messages.md): "
        + "\n".join(untranslated)
    )


def test_the_list_of_older_messages_only_shrinks() -> None:
    in_code = {m.text for m in messages.python_messages()}
    gone = sorted(messages.legacy() - in_code)
    assert not gone, "remove from tools/legacy_messages.txt (no longer in the code): " + repr(gone)


def test_the_catalog_holds_every_template_string() -> None:
    catalog = _catalog()
    missing = sorted(m.text for m in messages.template_messages() if not catalog.get(m.text))
    assert not missing, "untranslated (run python tools/zh_cn.py): " + repr(missing)
