"""How the sales agent words an answer in the languages it answers in (en, hi, fa, ru, he).
Its sentences are app/llm/phrases.py's table, shared with the chat (one table per language);
this module adds what only the agent needs: what was asked, named (`describe` in English,
`brief` in the others), the constraints it widened (`fields`), and the suggestions.

English names what was asked with the catalog's grammar (plurals, "for men", "in size M");
the other languages name it in a short form with the catalog's own words:
"saree · red · silk, ₹5,000 तक". Every title, price, count and catalog value comes from the
turn and the tools' results, unchanged.
"""

from __future__ import annotations

from app.llm.phrases import PHRASES, inr, phrase
from app.search.constraints import Filters

FIELDS: dict[str, dict[str, str]] = {  # the constraints reply.py says it widened (else the field's own name)
    "en": {"min_price": "minimum price", "sizes": "size", "colors": "colour"},
    "hi": {"work": "काम", "pattern": "पैटर्न", "occasion": "मौके", "fabric": "कपड़े", "brand": "ब्रांड", "sizes": "साइज़", "gender": "जेंडर",
           "colors": "रंग", "min_price": "न्यूनतम कीमत", "category": "प्रकार"},
    "fa": {"work": "کار", "pattern": "طرح", "occasion": "مناسبت", "fabric": "جنس", "brand": "برند", "sizes": "سایز", "gender": "جنسیت",
           "colors": "رنگ", "min_price": "حداقل قیمت", "category": "نوع"},
    "ru": {"work": "отделка", "pattern": "узор", "occasion": "повод", "fabric": "ткань", "brand": "бренд", "sizes": "размер", "gender": "пол",
           "colors": "цвет", "min_price": "минимальная цена", "category": "вид"},
    "he": {"work": "עבודה", "pattern": "דוגמה", "occasion": "אירוע", "fabric": "בד", "brand": "מותג", "sizes": "מידה", "gender": "מגדר",
           "colors": "צבע", "min_price": "מחיר מינימום", "category": "סוג"},
}

# The suggestions under an answer, by their English text: each reads back, when sent, as the
# English one does (tests/agent/test_languages.py sends them through the reading).
SUGGESTIONS: dict[str, dict[str, str]] = {
    "hi": {
        "Show me wedding lehengas under 20k": "शादी के लिए 20000 तक के लहंगे दिखाओ",
        "Compare the first two": "पहले दो की तुलना करो",
        "What is your returns policy?": "आपकी रिटर्न पॉलिसी क्या है?",
        "Show me cheaper ones": "सस्ते विकल्प दिखाइए",
        "In {color}": "{color} रंग में",
        "Is the first one available in size {size}?": "क्या पहला वाला साइज़ {size} में मिलेगा?",
        "Which one is in stock?": "कौन सा स्टॉक में है?",
        "Is it in stock?": "क्या यह स्टॉक में है?",
        "Show me party wear dresses": "पार्टी के लिए ड्रेस दिखाओ",
        "Red silk sarees under 10k": "लाल सिल्क साड़ी 10000 तक",
        "Talk to a person": "किसी इंसान से बात करनी है",
    },
    "fa": {
        "Show me wedding lehengas under 20k": "لباس عروسی زیر ۲۰ هزار نشان بده",
        "Compare the first two": "دو تای اول را مقایسه کن",
        "What is your returns policy?": "شرایط مرجوعی شما چیست؟",
        "Show me cheaper ones": "گزینه‌های ارزان‌تر را نشان بده",
        "In {color}": "به رنگ {color}",
        "Is the first one available in size {size}?": "اولی در سایز {size} موجود است؟",
        "Which one is in stock?": "کدام موجود است؟",
        "Is it in stock?": "موجود است؟",
        "Show me party wear dresses": "لباس مهمانی نشان بده",
        "Red silk sarees under 10k": "ساری ابریشمی قرمز زیر ۱۰ هزار",
        "Talk to a person": "می‌خواهم با یک انسان صحبت کنم",
    },
    "ru": {
        "Show me wedding lehengas under 20k": "Покажи свадебные наряды до 20 000",
        "Compare the first two": "Сравни первые два",
        "What is your returns policy?": "Какие у вас условия возврата?",
        "Show me cheaper ones": "Покажи варианты дешевле",
        "In {color}": "В цвете {color}",
        "Is the first one available in size {size}?": "Есть первое в размере {size}?",
        "Which one is in stock?": "Какой из них в наличии?",
        "Is it in stock?": "Это есть в наличии?",
        "Show me party wear dresses": "Покажи платья для вечеринки",
        "Red silk sarees under 10k": "Красное шёлковое сари до 10 000",
        "Talk to a person": "Хочу поговорить с человеком",
    },
    "he": {
        "Show me wedding lehengas under 20k": "הראה לי בגדים לחתונה עד 20000",
        "Compare the first two": "תשווה בין שני הראשונים",
        "What is your returns policy?": "מה מדיניות ההחזרות שלכם?",
        "Show me cheaper ones": "הראה לי אפשרויות זולות יותר",
        "In {color}": "בצבע {color}",
        "Is the first one available in size {size}?": "יש את הראשון במידה {size}?",
        "Which one is in stock?": "איזה מהם במלאי?",
        "Is it in stock?": "זה במלאי?",
        "Show me party wear dresses": "הראה לי שמלות למסיבה",
        "Red silk sarees under 10k": "סארי משי אדום עד 10000",
        "Talk to a person": "אני רוצה לדבר עם נציג",
    },
}


def suggestion(language: str, english: str, **values: object) -> str:
    """A suggestion in `language`, by its English text (English, or not translated: as given)."""
    return SUGGESTIONS.get(language, {}).get(english, english).format(**values)


def say(language: str, key: str, variant: str | None = None, **values: object) -> str:
    """One sentence of the agent in `language`, its values filled in. A `variant` is a wording
    some languages need and others do not (English: "fits"/"fit", "party wear"): `key.variant`
    where `language` has it, else `key`."""
    if variant is not None and f"{key}.{variant}" in PHRASES[language]:
        key = f"{key}.{variant}"
    return phrase(language, key, **values)


def says(language: str, key: str) -> bool:
    """Whether `language` has its own sentence for `key` (some are said in English only)."""
    return key in PHRASES.get(language, {})


def listing(language: str, items: list[str]) -> str:
    """"a", "a and b", "a, b and c", with `language`'s "and"."""
    last = phrase(language, "and")
    return last.join(items) if len(items) <= 2 else ", ".join(items[:-1]) + last + items[-1]


def fields(language: str, names: list[str]) -> str:
    """The widened constraints named in `language`: "colour and size", "रंग और साइज़"."""
    return listing(language, [FIELDS[language].get(n, n) for n in names])


def named(language: str, filters: Filters, *, count: int | None = None) -> str:
    """What was asked, as a sentence names it: `describe` in English, `brief` in the others."""
    return describe(filters, count=count) if language == "en" else brief(language, filters)


def describe(filters: Filters, *, count: int | None = None) -> str:
    """"red wedding lehengas in size M between ₹5,000 and ₹20,000" from the filters."""
    words: list[str] = []
    if filters.colors:
        words.append("/".join(filters.colors))
    for name in ("fabric", "occasion"):
        if value := getattr(filters, name):
            words.append(value)
    if filters.brand:
        words.append(filters.brand)
    kind = filters.category or "item"
    words.append(kind if count == 1 else _plural(kind))
    if filters.gender and filters.gender != "unisex":
        words.append(f"for {filters.gender}")
    if filters.sizes:
        words.append("in size " + " or ".join(filters.sizes))
    if filters.min_price is not None and filters.max_price is not None:
        words.append(f"between {inr(filters.min_price)} and {inr(filters.max_price)}")
    elif filters.max_price is not None:
        words.append(f"up to {inr(filters.max_price)}")
    elif filters.min_price is not None:
        words.append(f"from {inr(filters.min_price)}")
    return " ".join(words)


def _plural(category: str) -> str:
    if category.endswith(("s", "wear")):
        return category
    if category.endswith(("ch", "sh", "x")):
        return category + "es"
    return category + "s"


def brief(language: str, filters: Filters) -> str:
    """What was asked, short, in the catalog's own words: "saree · red · silk, ₹5,000 तक"."""
    words = [filters.category or "", "/".join(filters.colors), filters.fabric or "", filters.occasion or "",
             filters.brand or "", filters.gender if filters.gender not in (None, "unisex") else ""]
    out = " · ".join(w for w in words if w)
    bounds = []
    if filters.sizes:
        bounds.append(say(language, "size", sizes=", ".join(filters.sizes)))
    if filters.min_price is not None and filters.max_price is not None:
        bounds.append(say(language, "between", low=inr(filters.min_price), high=inr(filters.max_price)))
    elif filters.max_price is not None:
        bounds.append(say(language, "up_to", price=inr(filters.max_price)))
    elif filters.min_price is not None:
        bounds.append(say(language, "from", price=inr(filters.min_price)))
    return ", ".join(p for p in (out, *bounds) if p) or "—"
