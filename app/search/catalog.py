"""A deterministic fashion demo catalog, and the shopping vocabulary it is built from.

The vocabulary constants (categories, colours, fabrics, occasions, genders and their aliases)
are the single source the query parser reads, so the parser knows exactly what the catalog
can contain. `generate_catalog(n, seed)` draws only from one `random.Random(seed)`, so the
same seed gives identical products on every run and Python version, and the first k products
of a larger catalog equal a catalog of size k.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from typing import Any

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


_W, _M, _U = "women", "men", "unisex"
_ALL_COLORS = tuple(COLOR_FAMILIES)
_ETHNIC_COLORS = ("red", "pink", "orange", "yellow", "green", "blue", "purple", "beige", "white", "gold", "black")
_WESTERN_COLORS = ("black", "white", "blue", "grey", "beige", "green", "red", "pink", "yellow", "brown", "purple")
_PATTERNS = ("solid", "striped", "checked", "floral print", "polka dot", "graphic print",
             "abstract print", "colour block", "embroidered", "tie dye")

CATEGORIES: dict[str, CategorySpec] = {
    "lehenga": CategorySpec(
        "ethnic", 7,
        (("bridal lehenga", _W, "wedding"), ("lehenga choli", _W, None), ("crop top lehenga", _W, None),
         ("flared lehenga", _W, None), ("lehenga set", _W, None)),
        (_W,), ("silk", "raw silk", "velvet", "georgette", "net", "organza", "brocade", "chiffon"),
        ("zardozi", "gota patti", "mirror work", "sequin", "resham", "aari", "zari", "thread work", "stone work"),
        _ETHNIC_COLORS, ("wedding", "wedding", "party", "festive"), APPAREL_SIZES, (8000, 32000, 250000),
    ),
    "saree": CategorySpec(
        "ethnic", 10,
        (("banarasi saree", _W, None), ("kanjivaram saree", _W, "wedding"), ("printed saree", _W, "casual"),
         ("designer saree", _W, "party"), ("ready-to-wear saree", _W, None), ("handloom saree", _W, None)),
        (_W,), ("silk", "georgette", "chiffon", "cotton", "organza", "linen", "crepe", "chanderi", "satin"),
        ("zari", "sequin", "bandhani", "block print", "kantha", "leheriya", "ikat", "kalamkari", "thread work"),
        _ETHNIC_COLORS, ("wedding", "party", "festive", "festive", "office", "casual"), (FREE_SIZE,),
        (1500, 6500, 80000),
    ),
    "kurta": CategorySpec(
        "ethnic", 10,
        (("straight kurta", None, None), ("a-line kurti", _W, None), ("kurta set", None, "festive"),
         ("short kurti", _W, "casual"), ("pathani kurta", _M, None), ("nehru collar kurta", _M, None)),
        (_W, _M), ("cotton", "linen", "silk", "rayon", "chanderi", "khadi", "georgette"),
        ("chikankari", "block print", "thread work", "mirror work", "ajrakh", "kalamkari", "ikat", "resham"),
        _ETHNIC_COLORS, ("festive", "office", "casual", "casual"), APPAREL_SIZES, (499, 1800, 15000),
    ),
    "sherwani": CategorySpec(
        "ethnic", 3,
        (("wedding sherwani", _M, "wedding"), ("indo-western sherwani", _M, None), ("achkan", _M, None),
         ("jodhpuri sherwani", _M, None)),
        (_M,), ("silk", "raw silk", "velvet", "brocade", "jacquard"),
        ("zardozi", "resham", "thread work", "zari", "stone work", "aari"),
        ("beige", "white", "gold", "red", "blue", "green", "black", "pink"), ("wedding", "wedding", "festive"),
        SHERWANI_SIZES, (9000, 28000, 150000),
    ),
    "anarkali": CategorySpec(
        "ethnic", 6,
        (("anarkali suit", _W, None), ("anarkali gown", _W, "party"), ("floor-length anarkali", _W, None),
         ("anarkali kurta", _W, None)),
        (_W,), ("georgette", "silk", "cotton", "net", "velvet", "chiffon"),
        ("chikankari", "gota patti", "zari", "sequin", "mirror work", "resham", "block print"),
        _ETHNIC_COLORS, ("wedding", "party", "festive", "festive"), APPAREL_SIZES, (1999, 6500, 45000),
    ),
    "dupatta": CategorySpec(
        "ethnic", 4,
        (("dupatta", _W, None), ("stole", _U, "casual"), ("shawl", _U, None)),
        (_W,), ("chiffon", "georgette", "silk", "cotton", "net", "organza", "chanderi"),
        ("phulkari", "bandhani", "gota patti", "zari", "leheriya", "block print", "kantha"),
        _ETHNIC_COLORS, ("wedding", "festive", "casual"), (FREE_SIZE,), (399, 1400, 12000),
    ),
    "salwar suit": CategorySpec(
        "ethnic", 7,
        (("salwar kameez", _W, None), ("patiala suit", _W, None), ("churidar suit", _W, None),
         ("palazzo suit", _W, "office"), ("sharara set", _W, "wedding")),
        (_W,), ("cotton", "georgette", "silk", "rayon", "chanderi", "crepe"),
        ("chikankari", "block print", "thread work", "gota patti", "mirror work", "phulkari", "bandhani"),
        _ETHNIC_COLORS, ("wedding", "festive", "office", "casual"), APPAREL_SIZES, (999, 3500, 25000),
    ),
    "dress": CategorySpec(
        "western", 8,
        (("maxi dress", _W, None), ("midi dress", _W, None), ("bodycon dress", _W, "party"),
         ("shift dress", _W, "office"), ("wrap dress", _W, None), ("gown", _W, "party")),
        (_W,), ("cotton", "linen", "satin", "crepe", "chiffon", "georgette", "rayon", "denim"), _PATTERNS,
        _WESTERN_COLORS, ("party", "party", "office", "casual", "casual"), APPAREL_SIZES, (699, 2200, 18000),
        detail_key="pattern",
    ),
    "jeans": CategorySpec(
        "western", 7,
        (("skinny jeans", None, None), ("straight jeans", None, None), ("slim jeans", None, None),
         ("bootcut jeans", _W, None), ("mom jeans", _W, None), ("relaxed jeans", _M, None)),
        (_W, _M), ("denim",), ("solid", "washed", "distressed", "ripped", "acid wash"),
        ("blue", "black", "grey", "white"), ("casual",), WAIST_SIZES, (799, 2000, 6000),
        detail_key="pattern",
    ),
    "shirt": CategorySpec(
        "western", 7,
        (("formal shirt", None, "office"), ("casual shirt", None, "casual"), ("oxford shirt", _M, None),
         ("mandarin collar shirt", None, None), ("overshirt", _U, "casual")),
        (_M, _W), ("cotton", "linen", "poplin", "denim", "rayon", "silk"), ("solid", "striped", "checked",
        "floral print", "printed"), _WESTERN_COLORS, ("office", "office", "casual", "party"), APPAREL_SIZES,
        (599, 1500, 6000), detail_key="pattern",
    ),
    "t-shirt": CategorySpec(
        "western", 9,
        (("crew neck t-shirt", None, None), ("polo t-shirt", None, None), ("oversized t-shirt", _U, None),
         ("v-neck t-shirt", None, None), ("graphic t-shirt", _U, None)),
        (_M, _W, _U), ("cotton", "jersey", "polyester", "linen"), ("solid", "striped", "graphic print",
        "tie dye", "colour block"), _WESTERN_COLORS, ("casual",), APPAREL_SIZES, (399, 799, 2500),
        detail_key="pattern",
    ),
    "jacket": CategorySpec(
        "western", 5,
        (("nehru jacket", _M, "festive"), ("denim jacket", None, "casual"), ("bomber jacket", None, None),
         ("blazer", None, "office"), ("puffer jacket", _U, "casual"), ("biker jacket", None, None)),
        (_M, _W), ("denim", "leather", "faux leather", "wool", "velvet", "polyester"), ("solid", "quilted",
        "checked", "embroidered", "washed"), ("black", "blue", "brown", "grey", "green", "beige", "red"),
        ("casual", "office", "party", "festive"), APPAREL_SIZES, (1499, 3500, 25000), detail_key="pattern",
    ),
    "shoes": CategorySpec(
        "footwear", 6,
        (("sneakers", None, "casual"), ("loafers", None, None), ("formal shoes", _M, "office"),
         ("mojari", None, "festive"), ("juttis", _W, "festive"), ("boots", None, None),
         ("running shoes", _U, "casual")),
        (_M, _W, _U), ("leather", "suede", "canvas", "mesh", "faux leather"), ("solid", "embroidered",
        "perforated", "textured"), ("black", "brown", "white", "beige", "blue", "grey", "gold"),
        ("casual", "office", "party", "festive", "wedding"), SHOE_SIZES, (999, 2800, 18000),
        detail_key="pattern",
    ),
    "sandals": CategorySpec(
        "footwear", 4,
        (("kolhapuri sandals", None, None), ("heels", _W, "party"), ("flats", _W, "casual"),
         ("wedges", _W, None), ("slides", _U, "casual"), ("block heels", _W, None)),
        (_W, _M), ("leather", "faux leather", "suede"), ("solid", "embroidered", "embellished", "braided"),
        ("black", "brown", "gold", "silver", "beige", "red", "pink"), ("casual", "party", "festive", "wedding"),
        SANDAL_SIZES, (499, 1500, 8000), detail_key="pattern",
    ),
    "bags": CategorySpec(
        "bags", 4,
        (("tote bag", _W, None), ("sling bag", None, None), ("clutch", _W, "party"), ("potli bag", _W, "wedding"),
         ("backpack", _U, "casual"), ("handbag", _W, None)),
        (_W, _U), ("leather", "faux leather", "canvas", "jute", "velvet", "silk"), ("solid", "embroidered",
        "quilted", "zari", "beaded", "printed"), _ALL_COLORS, ("casual", "office", "party", "wedding"),
        (FREE_SIZE,), (699, 2200, 35000), detail_key="pattern",
    ),
    "jewellery": CategorySpec(
        "jewellery", 5,
        (("necklace set", _W, None), ("jhumkas", _W, None), ("earrings", _W, None), ("bangles", _W, None),
         ("maang tikka", _W, "wedding"), ("choker", _W, None), ("ring", _U, None)),
        (_W,), ("gold plated", "silver", "oxidised silver", "kundan", "polki", "american diamond", "brass"),
        ("pearl", "meenakari", "temple", "filigree", "stone studded", "ruby", "emerald"), ("gold", "silver"),
        ("wedding", "party", "festive", "casual", "office"), (FREE_SIZE,), (299, 1800, 150000),
        material_key="material",
    ),
}

# Spellings shoppers type, mapped to a category (plurals need no entry: text.fold handles them).
CATEGORY_ALIASES: dict[str, str] = {
    "lehnga": "lehenga",
    "lengha": "lehenga",
    "lehanga": "lehenga",
    "ghagra": "lehenga",
    "chaniya choli": "lehenga",
    "sari": "saree",
    "kurti": "kurta",
    "salwar": "salwar suit",
    "salwar kameez": "salwar suit",
    "suit": "salwar suit",
    "dresses": "dress",
    "frock": "dress",
    "jean": "jeans",
    "denims": "jeans",
    "tshirt": "t-shirt",
    "t shirt": "t-shirt",
    "tee": "t-shirt",
    "shoe": "shoes",
    "footwear": "shoes",
    "sandal": "sandals",
    "chappal": "sandals",
    "bag": "bags",
    "purse": "bags",
    "jewelry": "jewellery",
    "jewellry": "jewellery",
    "jewels": "jewellery",
}

FABRICS: tuple[str, ...] = tuple(
    dict.fromkeys(f for spec in CATEGORIES.values() if spec.material_key == "fabric" for f in spec.fabrics)
)
MATERIALS: tuple[str, ...] = CATEGORIES["jewellery"].fabrics

BRANDS: dict[str, tuple[str, ...]] = {
    "designer": ("Aarohi Rao Couture", "House of Meher", "Vikram Sethi Atelier", "Noor Jahan Couture",
                 "Rangmahal by Tara", "Devika Anand", "Kesar Atelier", "Zariwala Studio"),
    "ethnic": ("Utsav Threads", "Desi Loom", "Kalakriti", "Rangrez & Co", "Chandbagh", "Suti Kahani",
               "Phoolwari", "Jaipur Weave Works", "Mulmul Street", "Banno Collective"),
    "western": ("Urban Fable", "Northline", "Denim District", "Coastline Co", "Marine Drive Co", "Kite & Kin",
                "Metro Muse", "Bombay Basics", "Indigo Lane", "Saltwater Studio"),
    "footwear": ("Stride Lab", "Mojari House", "Sole Story", "Kolhapur Craft Co", "Heel & Toe", "Pavement Co"),
    "bags": ("Satchel Story", "Tote Theory", "Potli Tales", "Carryall Co", "Jute Junction"),
    "jewellery": ("Kundan Kala", "Tara Jewels", "Swarnika", "Moti Mahal Jewels", "Silver Sutra", "Nazakat"),
}

_ADJECTIVES: dict[str, tuple[str, ...]] = {
    "ethnic": ("Regal", "Elegant", "Handcrafted", "Royal", "Festive", "Classic", "Graceful", "Heritage", "Luxe"),
    "western": ("Everyday", "Classic", "Relaxed", "Modern", "Essential", "Tailored", "Vintage", "Urban"),
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
    "festive": ("festive celebrations like Diwali and Eid", "pujas and family festivities", "the festive season"),
    "office": ("the office and formal meetings", "workdays", "smart office looks"),
    "casual": ("relaxed everyday wear", "weekends and travel", "easy daily wear"),
}
_CARE = {
    "dry clean": "Dry clean only.",
    "wash": "Machine washable on a gentle cycle.",
    "wipe": "Wipe clean with a soft dry cloth.",
}
_DRY_CLEAN = frozenset({"silk", "raw silk", "velvet", "brocade", "organza", "net", "jacquard", "satin",
                        "wool", "tissue", "chanderi"})
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
    if phrase.endswith("s") and not phrase.endswith("ss"):
        return phrase[:1].upper() + phrase[1:]
    return f"{'An' if phrase[:1] in 'aeiou' else 'A'} {phrase}"


def _title_case(text: str) -> str:
    out = []
    for i, word in enumerate(text.split()):
        if i and word in _LOWER_IN_TITLES:
            out.append(word)
        else:
            out.append(word if word.isupper() else word[:1].upper() + word[1:])
    return " ".join(out)


def generate_catalog(n: int = 5000, seed: int = 7) -> list[dict[str, Any]]:
    """`n` products drawn from one `random.Random(seed)`: same seed, same catalog."""
    rng = random.Random(seed)
    rnd = rng.random
    normal = rng.normalvariate

    def pick(seq: tuple[str, ...] | list[str]) -> str:
        return seq[int(rnd() * len(seq))]

    total_share = _CATEGORY_CUMULATIVE[-1]
    products: list[dict[str, Any]] = []
    append = products.append
    for i in range(1, n + 1):
        category = _CATEGORY_NAMES[bisect.bisect_right(_CATEGORY_CUMULATIVE, rnd() * total_share)]
        spec = CATEGORIES[category]
        group = spec.group
        sub, sub_gender, sub_occasion = spec.subcategories[int(rnd() * len(spec.subcategories))]
        gender = sub_gender or pick(spec.genders)
        occasion = sub_occasion or pick(spec.occasions)
        fabric = pick(spec.fabrics)
        detail = pick(spec.details)

        if group == "jewellery":  # the metal is the colour
            family = "silver" if fabric in _SILVER_MATERIALS else "gold"
        else:
            family = pick(spec.colors)
        shade = pick(COLOR_FAMILIES[family])
        colors = [family]
        color_text = shade
        if rnd() < (0.3 if group == "ethnic" else 0.1):
            second = pick(spec.colors)
            if second != family:
                colors.append(second)
                if rnd() < 0.5:
                    color_text = f"{shade} & {pick(COLOR_FAMILIES[second])}"

        low, median, high = spec.price
        sigma = max(math.log(high / median), math.log(median / low)) / 2.5
        raw = median * _OCCASION_PRICE[occasion] * math.exp(normal(0.0, sigma))
        price = retail_price(raw, low, high)

        if spec.sizes[0] == FREE_SIZE:
            sizes = [FREE_SIZE]
        else:
            count = len(spec.sizes)
            run = 3 + int(rnd() * (count - 2))  # 3..count sizes, contiguous
            start = int(rnd() * (count - run + 1))
            sizes = list(spec.sizes[start : start + run])

        tier = "designer" if group == "ethnic" and price >= median * 1.5 else group
        brand = pick(BRANDS[tier])

        title = pick(_TITLES[group]).format(
            color=color_text,
            fabric=fabric,
            detail=detail,
            sub=sub,
            adj=pick(_ADJECTIVES[group]),
            brand=brand,
            gender=_GENDER_LABEL[gender],
        )
        title = _title_case(title)

        if group == "jewellery":
            first = f"{_with_article(f'{fabric} {sub}')} finished with {detail} detailing."
        elif detail in ("solid", "printed"):
            first = f"{_with_article(f'{shade} {fabric} {sub}')} from {brand}."
        elif group == "ethnic":
            first = f"{_with_article(f'{shade} {fabric} {sub}')} with {detail} detailing from {brand}."
        else:
            first = f"{_with_article(f'{shade} {fabric} {sub}')} with {'an' if detail[0] in 'aeiou' else 'a'} {detail} look from {brand}."
        sentences = [first]
        if rnd() < 0.75:
            sentences.append(f"Made for {pick(_OCCASION_PHRASES[occasion])}.")
        if rnd() < 0.5:
            if category in _WITH_DUPATTA and rnd() < 0.6:
                sentences.append("Comes with a matching dupatta.")
            elif fabric in _DRY_CLEAN:
                sentences.append(_CARE["dry clean"])
            elif fabric in _WIPE:
                sentences.append(_CARE["wipe"])
            elif group != "jewellery":
                sentences.append(_CARE["wash"])

        attributes = {
            spec.material_key: fabric,
            "occasion": occasion,
            "gender": gender,
            spec.detail_key: detail,
            "shade": shade,
        }
        rating = min(5.0, max(1.0, normal(4.1, 0.5)))
        append(
            {
                "sku": f"SS-{i:06d}",
                "title": title,
                "brand": brand,
                "category": category,
                "subcategory": sub,
                "description": " ".join(sentences),
                "colors": colors,
                "sizes": sizes,
                "price": price,
                "currency": CURRENCY,
                "in_stock": rnd() < IN_STOCK_SHARE,
                "rating": round(rating, 1),
                "image_url": f"/static/products/{category.replace(' ', '-')}.svg",
                "attributes": attributes,
            }
        )
    return products
