"""The seed study is cited the same way wherever colift names it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TITLE = (
    "How Can the CPC Community-level Organizations Spearhead the Public Service Co-production "
    "to Achieve Urban Community Regeneration: A Case Study of Elevator Installation in Old "
    "Residential Areas"
)
DOI = "doi:10.16088/j.issn.1001-6597.2022.06.003"


def flat(path: str) -> str:
    return " ".join((ROOT / path).read_text(encoding="utf-8").split())


def test_readme_and_path_model_cite_the_same_title_doi_and_pages() -> None:
    for path in ("README.md", "docs/path-model.md"):
        text = flat(path)
        assert TITLE in text, path
        assert DOI in text, path
        assert "2022, 58(6): 26–42" in text, path
        assert "Wang Huanming (王欢明) and Liu Mengfan (刘梦凡)" in text, path
        # no unverified Chinese title is quoted
        assert "《基层党" not in text, path
