"""Chinese and English for the web pages: the visitor's choice (a cookie), else the browser's
Accept-Language, else Chinese. Messages live in ``web/messages/*.py`` (one ``MESSAGES`` dict per
page group: key → (中文, English)); a test checks every key has both."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from fastapi import Request

LANGUAGES = ("zh", "en")
LANG_COOKIE = "lang"


@cache
def catalogue() -> dict[str, tuple[str, str]]:
    from parkshare.web import messages

    merged: dict[str, tuple[str, str]] = {}
    for module in pkgutil.iter_modules(messages.__path__):
        found = importlib.import_module(f"{messages.__name__}.{module.name}").MESSAGES
        duplicated = merged.keys() & found.keys()
        if duplicated:
            raise RuntimeError(f"message keys defined twice: {sorted(duplicated)}")
        merged.update(found)
    return merged


def choose_language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return from_accept_language(request.headers.get("accept-language", ""))


def from_accept_language(header: str) -> str:
    """The first of zh/en by the header's q-values (``en-GB;q=0.8, zh-CN``); zh if neither."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else "zh"


def translate(lang: str, key: str, **values: object) -> str:
    """The message in ``lang``, formatted with ``values``; an unknown key shows itself."""
    pair = catalogue().get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**values) if values else text
