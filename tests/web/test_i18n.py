"""Chinese and English: every message has both, every key a page uses exists, and the
language is chosen from the visitor's choice, then the browser's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parkshare.web.i18n import catalogue, from_accept_language, translate

WEB = Path(__file__).resolve().parents[2] / "src" / "parkshare" / "web"
# t("key"), t('key'), translate(lang, "key") with a literal key
USES = re.compile(r"""\b(?:t|translate)\((?:[a-z_]+,\s*)?["']([a-z0-9_]+\.[a-z0-9_.]+)["']""")


def test_every_message_has_chinese_and_english() -> None:
    for key, (zh, en) in catalogue().items():
        assert zh.strip() and en.strip(), key


def test_every_key_a_page_or_module_uses_exists() -> None:
    sources = [*WEB.rglob("*.html"), *WEB.rglob("*.py")]
    used = {key for path in sources for key in USES.findall(path.read_text(encoding="utf-8"))}
    assert len(used) > 20  # the pattern finds the uses
    missing = sorted(k for k in used - catalogue().keys() if not k.endswith("."))  # dynamic
    assert missing == []


def test_placeholders_agree_between_the_languages() -> None:
    field = re.compile(r"{(\w*)")
    for key, (zh, en) in catalogue().items():
        assert set(field.findall(zh)) == set(field.findall(en)), key


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("", "zh"),
        ("en-GB,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en;q=0.5, zh-TW;q=0.8", "zh"),
        ("fr-FR, en;q=0.3", "en"),
        ("fr-FR", "zh"),
        ("en;q=0", "zh"),
        ("en;q=abc", "zh"),
    ],
)
def test_the_browser_language_is_honoured_by_quality(header: str, language: str) -> None:
    assert from_accept_language(header) == language


def test_a_message_is_formatted_in_the_chosen_language() -> None:
    assert translate("en", "home.lots", lots=117, berths="17,563") == (
        "117 car parks, 17,563 shared berths"
    )
    assert translate("zh", "home.lots", lots=117, berths="17,563").startswith("117 个停车场")
