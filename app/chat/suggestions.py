"""Two to four follow-up questions a shopper might ask next, from what the answer showed,
in the answer's language."""

from __future__ import annotations

from typing import Any

from app.llm.phrases import phrase


def suggest(
    language: str,
    products: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    other_colors: list[str],
) -> list[str]:
    out: list[str] = []
    if products:
        out.append(phrase(language, "s_cheaper"))
        if other_colors:
            out.append(phrase(language, "s_color", color=other_colors[0]))
        out.append(phrase(language, "s_sizes", title=products[0]["title"]))
        if products[0].get("category"):
            out.append(phrase(language, "s_best", category=products[0]["category"]))
    if sources and len(out) < 4:
        name = sources[0].get("file_name") or sources[0].get("title")
        if name:
            out.append(phrase(language, "s_more_doc", source=name))
    for fallback in ("s_start", "s_policy"):
        if len(out) >= 2:
            break
        out.append(phrase(language, fallback))
    return out[:4]
