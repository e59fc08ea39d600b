"""Every UI string has its Chinese translation, and the catalog matches the templates."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from colift.i18n import LOCALE_DIR
from colift.web import i18n
from colift.web.labels import label, yuan

WEB = Path(i18n.__file__).parent


def _template_ids() -> set[str]:
    method_map = [("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = extract_from_dir(str(WEB), method_map, options_map=options)
    return {str(message) for _, _, message, _, _ in found}


def test_every_template_string_is_translated() -> None:
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = {str(m.id): str(m.string) for m in catalog if m.id}
    missing = sorted(i for i in _template_ids() if not translated.get(i))
    assert not missing, "untranslated (run pybabel extract and tools/zh_cn.py): " + repr(missing)


def test_chinese_is_the_default_and_english_switchable() -> None:
    assert i18n.pick(None, None, "en-US,en;q=0.9") == "zh-CN"
    assert i18n.pick("en", None, None) == "en"
    assert i18n.pick(None, "en", None) == "en"
    assert i18n.gettext_for("zh-CN").gettext("Sign in") == "登录"
    assert i18n.gettext_for("en").gettext("Sign in") == "Sign in"


def test_domain_labels_follow_the_language() -> None:
    assert label("stage", "notice", "zh-CN") == "公示"
    assert label("stage", "notice", "en") == "notice"
    assert label("tool", "mediation", "zh-CN") == "人民调解"
    assert label("vote", "agree", "zh-CN") == "同意"


def test_yuan_is_exact() -> None:
    assert yuan(123456789) == "¥1,234,567.89"
    assert yuan(-300000) == "-¥3,000.00"
    assert yuan(5) == "¥0.05"
    assert yuan(None) == "—"


def test_bilingual_messages_show_one_language() -> None:
    from colift.web.present import rationale, side

    text = "1户低层业主因采光反对 / 1 low-floor owner objects: light"
    assert side(text, "zh-CN") == "1户低层业主因采光反对"
    assert side(text, "en") == "1 low-floor owner objects: light"
    assert side("no split here", "zh-CN") == "no split here"
    why = f"{text} → 社区精英用「优化设计」(design_change)：它针对利益冲突 / addresses interest"
    assert rationale(why, "zh-CN") == "1户低层业主因采光反对"
    assert rationale(why, "en") == "1 low-floor owner objects: light"  # no ids on the page


def test_heterogeneity_is_explained_in_chinese_from_its_figures() -> None:
    from colift.web.present import dimension_text

    measured = {
        "owner_occupied": 8,
        "rented": 2,
        "absentee": 2,
        "developer_held": 0,
        "households": 12,
    }
    zh = dimension_text(
        "tenure", "8 owner-occupied, 2 rented, 2 absentee of 12 flats", measured, "zh-CN"
    )
    assert zh == "自住8户、出租2户、外住或空置2户、开发商持有0户，共12户"
    assert dimension_text("tenure", "english", measured, "en") == "english"
    unknown = dimension_text("technical", "x", {"survey_recorded": False, "issues": 0}, "zh-CN")
    assert "技术条件未知" in unknown
