"""A deterministic fashion demo catalog, and the shopping vocabulary it is built from.

The vocabulary constants (categories, colours, fabrics, occasions, genders and their aliases)
are the single source the query parser reads, so the parser knows exactly what the catalog
can contain. `generate_catalog(n, seed)` draws only from one `random.Random(seed)`, so the
same seed gives identical products on every run and Python version, and the first k products
of a larger catalog equal a catalog of size k.
"""

from __future__ import annotations

import bisect
import functools
import gc
import math
import random
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.catalog.pictures import picture_url

CURRENCY = "INR"
IN_STOCK_SHARE = 0.85

APPAREL_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SHERWANI_SIZES = ("36", "38", "40", "42", "44", "46")
WAIST_SIZES = ("28", "30", "32", "34", "36", "38")
SHOE_SIZES = tuple(f"UK {n}" for n in range(5, 12))
SANDAL_SIZES = tuple(f"UK {n}" for n in range(3, 10))
FREE_SIZE = "Free Size"

# Colour family -> the shades that appear in titles. Products carry families in `colors`
# (what shoppers filter on) and their first shade in `attributes["shade"]`.
COLOR_FAMILIES: dict[str, tuple[str, ...]] = {
    "red": ("red", "crimson", "maroon", "ruby", "scarlet", "wine", "cherry"),
    "pink": ("pink", "blush", "rani pink", "fuchsia", "rose", "baby pink", "onion pink"),
    "orange": ("orange", "rust", "peach", "coral", "saffron", "tangerine"),
    "yellow": ("yellow", "mustard", "lemon", "haldi yellow", "marigold"),
    "green": ("green", "emerald", "bottle green", "olive", "mint", "sage", "parrot green"),
    "blue": ("blue", "navy", "royal blue", "sky blue", "powder blue", "indigo", "teal", "cobalt"),
    "purple": ("purple", "lavender", "lilac", "violet", "plum", "mauve", "wine purple"),
    "brown": ("brown", "tan", "chocolate", "coffee", "camel"),
    "beige": ("beige", "cream", "nude", "champagne", "sand"),
    "white": ("white", "ivory", "off white", "pearl white"),
    "black": ("black", "jet black"),
    "grey": ("grey", "charcoal", "ash grey", "slate"),
    "gold": ("gold", "antique gold", "rose gold"),
    "silver": ("silver", "gunmetal"),
}
COLOR_ALIASES: dict[str, str] = {
    "gray": "grey",
    "golden": "gold",
    "navy blue": "navy",
    "offwhite": "off white",
    "magenta": "fuchsia",
    "burgundy": "wine",
    "turquoise": "teal",
    "khaki": "beige",
    # romanised Hindi (Hinglish), as shoppers type it
    "laal": "red",
    "lal": "red",
    "gulabi": "pink",
    "narangi": "orange",
    "kesari": "orange",
    "peela": "yellow",
    "peeli": "yellow",
    "peele": "yellow",
    "pila": "yellow",
    "hara": "green",
    "hari": "green",
    "hare": "green",
    "neela": "blue",
    "neeli": "blue",
    "neele": "blue",
    "nila": "blue",
    "nili": "blue",
    "aasmani": "blue",
    "asmani": "blue",
    "firozi": "blue",
    "jamuni": "purple",
    "baingani": "purple",
    "bhura": "brown",
    "bhoora": "brown",
    "safed": "white",
    "safaid": "white",
    "sufaid": "white",
    "kala": "black",
    "kaala": "black",
    "kaali": "black",
    "kaale": "black",
    "kale": "black",
    "sunehra": "gold",
    "sunehri": "gold",
    "sunehre": "gold",
}

OCCASIONS = ("wedding", "party", "festive", "office", "casual")
OCCASION_ALIASES: dict[str, str] = {
    "reception": "wedding",
    "sangeet": "wedding",
    "mehendi": "wedding",
    "mehndi": "wedding",
    "partywear": "party",
    "party wear": "party",
    "cocktail": "party",
    "festival": "festive",
    "festive wear": "festive",
    "diwali": "festive",
    "eid": "festive",
    "navratri": "festive",
    "puja": "festive",
    "pooja": "festive",
    "office wear": "office",
    "workwear": "office",
    "formal": "office",
    "formals": "office",
    "everyday": "casual",
    "daily": "casual",
    "daily wear": "casual",
    "casual wear": "casual",
    "engagement": "wedding",
    # romanised Hindi (Hinglish)
    "shaadi": "wedding",
    "shadi": "wedding",
    "vivah": "wedding",
    "byah": "wedding",
    "sagai": "wedding",
    "haldi": "wedding",
    "tyohar": "festive",
    "tyohaar": "festive",
    "tyauhar": "festive",
    "daftar": "office",
    "rozana": "casual",
    "roz": "casual",
}

GENDERS = ("women", "men", "unisex")
GENDER_ALIASES: dict[str, str] = {
    "woman": "women",
    "womens": "women",
    "ladies": "women",
    "lady": "women",
    "female": "women",
    "girls": "women",
    "man": "men",
    "mens": "men",
    "gents": "men",
    "male": "men",
    "boys": "men",
    # romanised Hindi (Hinglish)
    "ladki": "women",
    "ladkiyan": "women",
    "ladkiyon": "women",
    "mahila": "women",
    "mahilaon": "women",
    "aurat": "women",
    "auraton": "women",
    "ladka": "men",
    "ladke": "men",
    "ladkon": "men",
    "ladko": "men",
    "purush": "men",
    "purushon": "men",
    "mard": "men",
    "mardon": "men",
    "aadmi": "men",
}


@dataclass(frozen=True)
class CategorySpec:
    """How one category is generated: who wears it, what it is made of, what it costs."""

    group: str  # ethnic | western | footwear | bags | jewellery
    share: int  # relative frequency in the catalog
    # (name, gender or None = any of `genders`, occasion or None = any of `occasions`)
    subcategories: tuple[tuple[str, str | None, str | None], ...]
    genders: tuple[str, ...]
    fabrics: tuple[str, ...]  # stored under `material_key`
    details: tuple[str, ...]  # embroidery work or print pattern, under `detail_key`
    colors: tuple[str, ...]  # colour families
    occasions: tuple[str, ...]
    sizes: tuple[str, ...]
    price: tuple[int, int, int]  # (min, median, max) INR
    material_key: str = "fabric"
    detail_key: str = "work"


_ALL_COLORS = tuple(COLOR_FAMILIES)
_ETHNIC_COLORS = (
    "red", "pink", "orange", "yellow", "green", "blue", "purple", "beige", "white", "gold", "black",
)
_WESTERN_COLORS = (
    "black", "white", "blue", "grey", "beige", "green", "red", "pink", "yellow", "brown", "purple",
)
_PATTERNS = ("solid", "striped", "checked", "floral print", "polka dot", "graphic print",
             "abstract print", "colour block", "embroidered", "tie dye")

_NAMED: dict[str, tuple[str, ...]] = {
    "ETHNIC_COLORS": _ETHNIC_COLORS, "WESTERN_COLORS": _WESTERN_COLORS, "ALL_COLORS": _ALL_COLORS,
    "PATTERNS": _PATTERNS, "APPAREL_SIZES": APPAREL_SIZES, "SHERWANI_SIZES": SHERWANI_SIZES,
    "WAIST_SIZES": WAIST_SIZES, "SHOE_SIZES": SHOE_SIZES, "SANDAL_SIZES": SANDAL_SIZES,
}


def _load_categories(path: Path) -> dict[str, CategorySpec]:
    """The categories of `path` (demo_categories.toml), in its order."""
    with path.open("rb") as file:
        tables = tomllib.load(file)

    def items(value: str | list[str]) -> tuple[str, ...]:
        return _NAMED[value] if isinstance(value, str) else tuple(value)

    return {
        name: CategorySpec(
            group=t["group"], share=t["share"],
            subcategories=tuple((sub, gender or None, occasion or None) for sub, gender, occasion in t["subcategories"]),
            genders=items(t["genders"]), fabrics=items(t["fabrics"]), details=items(t["details"]),
            colors=items(t["colors"]), occasions=items(t["occasions"]), sizes=items(t["sizes"]),
            price=(t["price"][0], t["price"][1], t["price"][2]),
            material_key=t.get("material_key", "fabric"), detail_key=t.get("detail_key", "work"),
        )
        for name, t in tables.items()
    }


CATEGORIES: dict[str, CategorySpec] = _load_categories(Path(__file__).with_name("demo_categories.toml"))

# Subcategories whose fabric is part of their name or nature.
SUBCATEGORY_FABRICS: dict[str, tuple[str, ...]] = {
    "banarasi saree": ("silk", "organza", "georgette"),
    "kanjivaram saree": ("silk",),
    "handloom saree": ("cotton", "linen", "silk", "chanderi"),
    "denim jacket": ("denim",),
    "biker jacket": ("leather", "faux leather"),
    "puffer jacket": ("polyester",),
    "nehru jacket": ("wool", "velvet"),
    "blazer": ("wool", "velvet", "polyester"),
    "oxford shirt": ("cotton",),
    "formal shoes": ("leather",),
    "running shoes": ("mesh",),
    "sneakers": ("canvas", "leather", "mesh", "suede"),
    "mojari": ("leather", "suede"),
    "juttis": ("leather", "suede"),
    "potli bag": ("velvet", "silk"),
    "backpack": ("canvas", "leather", "faux leather"),
}
# Jewellery takes its colours from the metal, plus the stone's.
_STONE_COLORS = {"ruby": "red", "emerald": "green", "pearl": "white"}

# Other names shoppers type for a category. Plurals need no entry (text.fold handles them), and
# none may fold to a fabric or colour word ("denims" would swallow the fabric "denim").
CATEGORY_ALIASES: dict[str, str] = {
    "lehnga": "lehenga",
    "lengha": "lehenga",
    "lehanga": "lehenga",
    "ghagra": "lehenga",
    "chaniya choli": "lehenga",
    "sari": "saree",
    "salwar": "salwar suit",
    "salwar kameez": "salwar suit",
    "suit": "salwar suit",
    "frock": "dress",
    "tshirt": "t-shirt",
    "t shirt": "t-shirt",
    "tee": "t-shirt",
    "footwear": "shoes",
    "chappal": "sandals",
    "purse": "bags",
    "jewelry": "jewellery",
    "jewellry": "jewellery",
    "jewels": "jewellery",
    # romanised Hindi (Hinglish)
    "chunni": "dupatta",
    "chunri": "dupatta",
    "odhni": "dupatta",
    "kameez": "salwar suit",
    "joota": "shoes",
    "joote": "shoes",
    "jooti": "shoes",
    "thaila": "bags",
    "jhola": "bags",
    "chudi": "jewellery",
    "chudiyan": "jewellery",
    "choodiyan": "jewellery",
}

# Words naming a kind of product more precisely than its category: the parser sets the
# category and keeps the word for text ranking. Single-word subcategories are added below.
CATEGORY_KEYWORDS: dict[str, str] = {
    "kurti": "kurta",
    "necklace": "jewellery",
    "tikka": "jewellery",
    "sharara": "salwar suit",
    "palazzo": "salwar suit",
    "patiala": "salwar suit",
    "churidar": "salwar suit",
    "potli": "bags",
    "tote": "bags",
    "kolhapuri": "sandals",
} | {
    sub: name
    for name, spec in CATEGORIES.items()
    for sub, _, _ in spec.subcategories
    if " " not in sub and sub != name
}

FABRICS: tuple[str, ...] = tuple(
    dict.fromkeys(
        fabric
        for spec in CATEGORIES.values()
        if spec.material_key == "fabric"
        for fabric in spec.fabrics
    )
)
MATERIALS: tuple[str, ...] = CATEGORIES["jewellery"].fabrics

# Invented labels. Ethnic pieces priced well above their category median get a designer label.
BRANDS: dict[str, tuple[str, ...]] = {
    "designer": (
        "Aarohi Rao Couture", "House of Meher", "Vikram Sethi Atelier", "Noor Jahan Couture",
        "Rangmahal by Tara", "Devika Anand", "Kesar Atelier", "Zariwala Studio",
    ),
    "ethnic": (
        "Utsav Threads", "Desi Loom", "Kalakriti", "Rangrez & Co", "Chandbagh", "Suti Kahani",
        "Phoolwari", "Jaipur Weave Works", "Mulmul Street", "Banno Collective",
    ),
    "western": (
        "Urban Fable", "Northline", "Denim District", "Coastline Co", "Marine Drive Co",
        "Kite & Kin", "Metro Muse", "Bombay Basics", "Indigo Lane", "Saltwater Studio",
    ),
    "footwear": (
        "Stride Lab", "Mojari House", "Sole Story", "Kolhapur Craft Co", "Heel & Toe",
        "Pavement Co",
    ),
    "bags": ("Satchel Story", "Tote Theory", "Potli Tales", "Carryall Co", "Jute Junction"),
    "jewellery": (
        "Kundan Kala", "Tara Jewels", "Swarnika", "Moti Mahal Jewels", "Silver Sutra", "Nazakat",
    ),
}

_ADJECTIVES: dict[str, tuple[str, ...]] = {
    "ethnic": (
        "Regal", "Elegant", "Handcrafted", "Opulent", "Festive", "Classic", "Graceful", "Heritage",
        "Luxe",
    ),
    "western": (
        "Everyday", "Classic", "Relaxed", "Modern", "Essential", "Tailored", "Vintage", "Urban",
    ),
    "footwear": ("Classic", "Handcrafted", "Everyday", "Cushioned", "Lightweight", "Premium"),
    "bags": ("Structured", "Everyday", "Handcrafted", "Mini", "Festive", "Roomy"),
    "jewellery": ("Bridal", "Antique", "Handcrafted", "Statement", "Delicate", "Traditional"),
}

_TITLES: dict[str, tuple[str, ...]] = {
    "ethnic": (
        "{color} {fabric} {detail} {sub}",
        "{adj} {color} {fabric} {sub}",
        "{color} {detail} {fabric} {sub}",
        "{sub} in {color} {fabric}",
        "{adj} {detail} {sub} - {color}",
        "{color} {fabric} {sub} with {detail} Detail",
        "{brand} {color} {sub}",
    ),
    "western": (
        "{color} {detail} {fabric} {sub}",
        "{gender} {color} {sub}",
        "{detail} {fabric} {sub} - {color}",
        "{adj} {color} {sub}",
        "{brand} {fabric} {sub} in {color}",
    ),
    "footwear": (
        "{color} {fabric} {sub}",
        "{gender} {color} {sub}",
        "{adj} {detail} {sub} - {color}",
        "{brand} {color} {fabric} {sub}",
    ),
    "bags": (
        "{color} {fabric} {sub}",
        "{detail} {fabric} {sub} - {color}",
        "{adj} {color} {sub}",
    ),
    "jewellery": (
        "{fabric} {detail} {sub}",
        "{adj} {fabric} {detail} {sub}",
        "{adj} {detail} {sub}",
        "{brand} {fabric} {sub}",
    ),
}

_GENDER_LABEL = {"women": "Women's", "men": "Men's", "unisex": "Unisex"}
_OCCASION_PHRASES: dict[str, tuple[str, ...]] = {
    "wedding": ("weddings and receptions", "the big day and the sangeet", "wedding functions"),
    "party": ("parties and cocktail evenings", "evening parties", "nights out"),
    "festive": (
        "festive celebrations like Diwali and Eid",
        "pujas and family festivities",
        "the festive season",
    ),
    "office": ("the office and formal meetings", "workdays", "smart office looks"),
    "casual": ("relaxed everyday wear", "weekends and travel", "easy daily wear"),
}
_CARE = {
    "dry clean": "Dry clean only.",
    "wash": "Machine washable on a gentle cycle.",
    "wipe": "Wipe clean with a soft dry cloth.",
}
_DRY_CLEAN = frozenset(
    {"silk", "raw silk", "velvet", "brocade", "organza", "net", "jacquard", "satin", "wool",
     "chanderi"}
)
_WIPE = frozenset({"leather", "faux leather", "suede", "canvas", "mesh", "jute"})
_WITH_DUPATTA = frozenset({"lehenga", "anarkali", "salwar suit"})
# (median multiplier) by occasion: a wedding piece costs more than its everyday cousin.
_OCCASION_PRICE = {"wedding": 1.6, "party": 1.15, "festive": 1.1, "office": 1.0, "casual": 0.75}


def _cumulative(weights: list[int]) -> list[int]:
    out, total = [], 0
    for weight in weights:
        total += weight
        out.append(total)
    return out


_CATEGORY_NAMES = tuple(CATEGORIES)
_CATEGORY_CUMULATIVE = _cumulative([spec.share for spec in CATEGORIES.values()])


def retail_price(value: float, low: int, high: int) -> int:
    """Round to a shop-shelf price (449, 1,899, 12,499), kept inside [low, high]."""
    step = 500 if value >= 10000 else 100 if value >= 1000 else 50
    price = int(round(value / step)) * step - 1
    return min(max(price, low), high)


_LOWER_IN_TITLES = frozenset({"with", "in", "and", "of", "by", "for"})
_SILVER_MATERIALS = frozenset({"silver", "oxidised silver", "american diamond"})


def _with_article(phrase: str) -> str:
    """'A silk saree', 'An ivory kurta', but 'Black sneakers' for plural-looking names."""
    phrase = " ".join(phrase.split())
    if phrase.endswith("s") and not phrase.endswith("ss"):
        return phrase[:1].upper() + phrase[1:]
    return f"{'An' if phrase[:1] in 'aeiou' else 'A'} {phrase}"


@functools.lru_cache(maxsize=4096)
def _title_case(text: str) -> str:
    out = []
    for i, word in enumerate(text.split()):
        if i and word in _LOWER_IN_TITLES:
            out.append(word)
        else:
            out.append(word if word.isupper() else word[:1].upper() + word[1:])
    return " ".join(out)


# Log-normal spread per category that puts its min and max about 2.5 sigma from the median.
_SIGMA = {
    name: max(math.log(high / median), math.log(median / low)) / 2.5
    for name, (low, median, high) in ((name, spec.price) for name, spec in CATEGORIES.items())
}

Rand = Callable[[], float]


def _pick(rnd: Rand, seq: Sequence[str]) -> str:
    return seq[int(rnd() * len(seq))]


def _colors(rnd: Rand, spec: CategorySpec, fabric: str, detail: str) -> tuple[list[str], str, str]:
    """(colour families, first shade, colour words for the title)."""
    if spec.group == "jewellery":  # the metal is the colour, plus the stone's
        family = "silver" if fabric in _SILVER_MATERIALS else "gold"
        shade = _pick(rnd, COLOR_FAMILIES[family])
        stone = _STONE_COLORS.get(detail)
        return ([family, stone] if stone else [family]), shade, shade
    family = _pick(rnd, spec.colors)
    shade = _pick(rnd, COLOR_FAMILIES[family])
    if rnd() < (0.3 if spec.group == "ethnic" else 0.1):
        second = _pick(rnd, spec.colors)
        if second != family:
            if rnd() < 0.5:
                return [family, second], shade, f"{shade} & {_pick(rnd, COLOR_FAMILIES[second])}"
            return [family, second], shade, shade
    return [family], shade, shade


def _sizes(rnd: Rand, spec: CategorySpec) -> list[str]:
    """A contiguous run of at least three of the category's sizes (or just Free Size)."""
    if spec.sizes[0] == FREE_SIZE:
        return [FREE_SIZE]
    count = len(spec.sizes)
    run = 3 + int(rnd() * (count - 2))
    start = int(rnd() * (count - run + 1))
    return list(spec.sizes[start : start + run])


def _description(rnd: Rand, spec: CategorySpec, category: str, attrs: dict[str, str]) -> str:
    """One to three sentences built from the attributes, as a merchandiser would write them."""
    fabric, detail, sub, brand = attrs["fabric"], attrs["detail"], attrs["sub"], attrs["brand"]
    what = _with_article(f"{attrs['shade']} {attrs['fabric_text']} {sub}")
    if spec.group == "jewellery":
        sentences = [f"{_with_article(f'{fabric} {sub}')} finished with {detail} detailing."]
    elif detail in ("solid", "printed"):
        sentences = [f"{what} from {brand}."]
    elif spec.group == "ethnic":
        sentences = [f"{what} with {detail} detailing from {brand}."]
    else:
        article = "an" if detail[0] in "aeiou" else "a"
        sentences = [f"{what} with {article} {detail} look from {brand}."]
    if rnd() < 0.75:
        sentences.append(f"Made for {_pick(rnd, _OCCASION_PHRASES[attrs['occasion']])}.")
    if rnd() < 0.5:
        if category in _WITH_DUPATTA and rnd() < 0.6:
            sentences.append("Comes with a matching dupatta.")
        elif fabric in _DRY_CLEAN:
            sentences.append(_CARE["dry clean"])
        elif fabric in _WIPE:
            sentences.append(_CARE["wipe"])
        elif spec.group != "jewellery":
            sentences.append(_CARE["wash"])
    return " ".join(sentences)


def generate_catalog(n: int = 5000, seed: int = 7) -> list[dict[str, Any]]:
    """`n` products drawn from one `random.Random(seed)`: same seed, same catalog."""
    # A million fresh dicts would trigger ever-longer cyclic-GC passes; none can form a cycle.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(n, seed)
    finally:
        if was_enabled:
            gc.enable()


def _generate(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rnd = rng.random
    normal = rng.normalvariate
    total_share = _CATEGORY_CUMULATIVE[-1]
    products: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        category = _CATEGORY_NAMES[bisect.bisect_right(_CATEGORY_CUMULATIVE, rnd() * total_share)]
        spec = CATEGORIES[category]
        group = spec.group
        sub, sub_gender, sub_occasion = spec.subcategories[int(rnd() * len(spec.subcategories))]
        gender = sub_gender or _pick(rnd, spec.genders)
        occasion = sub_occasion or _pick(rnd, spec.occasions)
        fabric = _pick(rnd, SUBCATEGORY_FABRICS.get(sub) or spec.fabrics)
        detail = _pick(rnd, spec.details)
        colors, shade, color_text = _colors(rnd, spec, fabric, detail)

        low, median, high = spec.price
        raw = median * _OCCASION_PRICE[occasion] * math.exp(normal(0.0, _SIGMA[category]))
        price = retail_price(raw, low, high)
        sizes = _sizes(rnd, spec)
        tier = "designer" if group == "ethnic" and price >= median * 1.5 else group
        brand = _pick(rnd, BRANDS[tier])

        fabric_text = "" if f" {fabric} " in f" {sub} " else fabric  # no "Denim Denim Jacket"
        title = _pick(rnd, _TITLES[group]).format(  # parts title-cased once, via the cache
            color=_title_case(color_text),
            fabric=_title_case(fabric_text),
            detail=_title_case(detail),
            sub=_title_case(sub),
            adj=_pick(rnd, _ADJECTIVES[group]),
            brand=brand,
            gender=_GENDER_LABEL[gender],
        )
        parts = {
            "fabric": fabric,
            "fabric_text": fabric_text,
            "detail": detail,
            "sub": sub,
            "brand": brand,
            "shade": shade,
            "occasion": occasion,
        }
        rating = min(5.0, max(1.0, normal(4.1, 0.5)))
        products.append(
            {
                "sku": f"SS-{i:06d}",
                "title": " ".join(title.split()),
                "brand": brand,
                "category": category,
                "subcategory": sub,
                "description": _description(rnd, spec, category, parts),
                "colors": colors,
                "sizes": sizes,
                "price": price,
                "currency": CURRENCY,
                "in_stock": rnd() < IN_STOCK_SHARE,
                "rating": round(rating, 1),
                "image_url": picture_url({"category": category, "colors": colors}, detail),
                "attributes": {
                    spec.material_key: fabric,
                    "occasion": occasion,
                    "gender": gender,
                    spec.detail_key: detail,
                    "shade": shade,
                },
            }
        )
    return products
