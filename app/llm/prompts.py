"""What an OpenAI-compatible model is told: the grounded system prompt and the
chat-completions `messages`.

The prompt is the model's only source of facts: it lists the products and document excerpts
retrieval found, tells the model to use nothing else, and names the shopper's language. Its
size is bounded (the `MAX_*` budgets) so that it fits a 2k-token context window.
"""

from __future__ import annotations

from typing import Any

from app.llm.base import Grounding, Message, one_line
from app.llm.phrases import inr

MAX_PRODUCTS = 8
MAX_SOURCES = 4
MAX_SOURCE_CHARS = 700
MAX_HISTORY_TURNS = 6  # messages (user and assistant) carried over from the conversation
MAX_TURN_CHARS = 1500

LANGUAGE_NAMES = {
    "en": "English", "hi": "Hindi", "fa": "Persian", "ar": "Arabic", "ru": "Russian",
    "he": "Hebrew", "ur": "Urdu", "bn": "Bengali", "ta": "Tamil", "te": "Telugu",
    "mr": "Marathi", "gu": "Gujarati", "kn": "Kannada", "ml": "Malayalam", "pa": "Punjabi",
    "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "tr": "Turkish", "zh": "Chinese", "ja": "Japanese", "ko": "Korean",
    "id": "Indonesian", "ms": "Malay", "th": "Thai", "vi": "Vietnamese", "uk": "Ukrainian",
    "pl": "Polish",
}


def language_name(code: str) -> str:
    """The English name of an ISO 639-1 code ("fa" -> "Persian"): models follow "Answer in
    Persian" far more reliably than "Answer in fa"."""
    code = (code or "en").strip().lower().split("-")[0]
    return LANGUAGE_NAMES.get(code, code or "English")


def build_system_prompt(grounding: Grounding) -> str:
    language = language_name(grounding.language)
    lines = [
        "You are the shopping assistant of an Indian online store.",
        f"Answer in {language}.",
        (
            "Answer ONLY from the products and store documents listed below. Do not invent products, "
            "prices, discounts, offers, delivery dates or stock levels. Prices are in Indian rupees "
            "(INR, ₹). Say when a product is out of stock."
        ),
        "Be concise: a short sentence or two, then at most 4 products, each with its price.",
    ]
    if grounding.sources:
        lines.append("When you use a store document, name it (file name and page).")
    products = grounding.products[:MAX_PRODUCTS]
    sources = grounding.sources[:MAX_SOURCES]
    if not products and not sources:
        lines.append(
            "Nothing in the catalog or the store documents matches this request. Do not recommend "
            f"anything: ask one short clarifying question (in {language}) about the category, "
            "colour, size or budget the shopper has in mind."
        )
    else:
        lines.append(
            "If none of them fits what the shopper asked, say so and ask one short clarifying "
            "question instead of guessing."
        )
    wanted = {k: v for k, v in grounding.filters.items() if v not in (None, "", [], {})}
    if wanted:
        lines.append("The shopper asked for: " + "; ".join(f"{k} {v}" for k, v in wanted.items()))
    if products:
        heading = "Products (best match first"
        if grounding.total > len(products):  # the exact count, should the model quote one
            heading += f"; the best {len(products)} of the {grounding.total} that match"
        lines.append(f"\n{heading}):")
        lines += [_product_line(i, p) for i, p in enumerate(products, 1)]
    if sources:
        lines.append("\nStore documents:")
        lines += [_source_block(i, s) for i, s in enumerate(sources, 1)]
    return "\n".join(lines)


def build_messages(
    history: list[Message], grounding: Grounding, *, max_turns: int = MAX_HISTORY_TURNS
) -> list[dict[str, str]]:
    """The chat-completions `messages`: the grounded system prompt, then the last `max_turns`
    user/assistant turns of `history` (ending with the shopper's question)."""
    turns = [
        {"role": m.role, "content": _clip(m.content)}
        for m in history
        if m.role in ("user", "assistant") and m.content.strip()
    ]
    turns = turns[-max_turns:] if max_turns > 0 else []
    if not turns or turns[-1]["role"] != "user":
        turns.append({"role": "user", "content": _clip(grounding.query)})
    while turns and turns[0]["role"] != "user":  # some chat templates insist on user first
        turns.pop(0)
    return [{"role": "system", "content": build_system_prompt(grounding)}, *turns]


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TURN_CHARS else text[:MAX_TURN_CHARS] + "…"


def _product_line(i: int, product: dict[str, Any]) -> str:
    parts = [f"{i}. {one_line(product.get('title', 'untitled'), 160)}"]
    if product.get("sku"):
        parts.append(f"sku {product['sku']}")
    if product.get("brand"):
        parts.append(f"brand {one_line(product['brand'], 60)}")
    if product.get("category"):
        parts.append(f"category {product['category']}")
    if isinstance(product.get("price"), (int, float)):
        parts.append(f"price {inr(product['price'])} (INR)")
    if product.get("colors"):
        parts.append("colours " + ", ".join(map(str, product["colors"][:8])))
    if product.get("sizes"):
        parts.append("sizes " + ", ".join(map(str, product["sizes"][:10])))
    if isinstance(product.get("rating"), (int, float)):
        parts.append(f"rating {product['rating']}/5")
    if "in_stock" in product:
        parts.append("in stock" if product["in_stock"] else "OUT OF STOCK")
    return "; ".join(parts)


def _source_block(i: int, source: dict[str, Any]) -> str:
    name = source.get("file_name") or source.get("title") or "store document"
    label = f"[{i}] {name}" + (f", page {source['page']}" if source.get("page") else "")
    return f"{label}:\n{one_line(source.get('text', ''), MAX_SOURCE_CHARS)}"
