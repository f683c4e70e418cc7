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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


_W, _M, _U = "women", "men", "unisex"
_ALL_COLORS = tuple(COLOR_FAMILIES)
_ETHNIC_COLORS = (
    "red", "pink", "orange", "yellow", "green", "blue", "purple", "beige", "white", "gold", "black",
)
_WESTERN_COLORS = (
    "black", "white", "blue", "grey", "beige", "green", "red", "pink", "yellow", "brown", "purple",
)
_PATTERNS = ("solid", "striped", "checked", "floral print", "polka dot", "graphic print",
             "abstract print", "colour block", "embroidered", "tie dye")

CATEGORIES: dict[str, CategorySpec] = {
    "lehenga": CategorySpec(
        group="ethnic",
        share=7,
        subcategories=(
            ("bridal lehenga", _W, "wedding"),
            ("lehenga choli", _W, None),
            ("crop top lehenga", _W, None),
            ("flared lehenga", _W, None),
            ("lehenga set", _W, None),
        ),
        genders=(_W,),
        fabrics=("silk", "raw silk", "velvet", "georgette", "net", "organza", "brocade", "chiffon"),
        details=(
            "zardozi", "gota patti", "mirror work", "sequin", "resham", "aari", "zari",
            "thread work", "stone work",
        ),
        colors=_ETHNIC_COLORS,
        occasions=("wedding", "wedding", "party", "festive"),
        sizes=APPAREL_SIZES,
        price=(8000, 32000, 250000),
    ),
    "saree": CategorySpec(
        group="ethnic",
        share=10,
        subcategories=(
            ("banarasi saree", _W, None),
            ("kanjivaram saree", _W, "wedding"),
            ("printed saree", _W, "casual"),
            ("designer saree", _W, "party"),
            ("ready-to-wear saree", _W, None),
            ("handloom saree", _W, None),
        ),
        genders=(_W,),
        fabrics=(
            "silk", "georgette", "chiffon", "cotton", "organza", "linen", "crepe", "chanderi",
            "satin",
        ),
        details=(
            "zari", "sequin", "bandhani", "block print", "kantha", "leheriya", "ikat", "kalamkari",
            "thread work",
        ),
        colors=_ETHNIC_COLORS,
        occasions=("wedding", "party", "festive", "festive", "office", "casual"),
        sizes=(FREE_SIZE,),
        price=(1500, 6500, 80000),
    ),
    "kurta": CategorySpec(
        group="ethnic",
        share=10,
        subcategories=(
            ("straight kurta", None, None),
            ("a-line kurti", _W, None),
            ("kurta set", None, "festive"),
            ("short kurti", _W, "casual"),
            ("pathani kurta", _M, None),
            ("nehru collar kurta", _M, None),
        ),
        genders=(_W, _M),
        fabrics=("cotton", "linen", "silk", "rayon", "chanderi", "khadi", "georgette"),
        details=(
            "chikankari", "block print", "thread work", "mirror work", "ajrakh", "kalamkari",
            "ikat", "resham",
        ),
        colors=_ETHNIC_COLORS,
        occasions=("festive", "office", "casual", "casual"),
        sizes=APPAREL_SIZES,
        price=(499, 1800, 15000),
    ),
    "sherwani": CategorySpec(
        group="ethnic",
        share=3,
        subcategories=(
            ("wedding sherwani", _M, "wedding"),
            ("indo-western sherwani", _M, None),
            ("achkan", _M, None),
            ("jodhpuri sherwani", _M, None),
        ),
        genders=(_M,),
        fabrics=("silk", "raw silk", "velvet", "brocade", "jacquard"),
        details=("zardozi", "resham", "thread work", "zari", "stone work", "aari"),
        colors=("beige", "white", "gold", "red", "blue", "green", "black", "pink"),
        occasions=("wedding", "wedding", "festive"),
        sizes=SHERWANI_SIZES,
        price=(9000, 28000, 150000),
    ),
    "anarkali": CategorySpec(
        group="ethnic",
        share=6,
        subcategories=(
            ("anarkali suit", _W, None),
            ("anarkali gown", _W, "party"),
            ("floor-length anarkali", _W, None),
            ("anarkali kurta", _W, None),
        ),
        genders=(_W,),
        fabrics=("georgette", "silk", "cotton", "net", "velvet", "chiffon"),
        details=(
            "chikankari", "gota patti", "zari", "sequin", "mirror work", "resham", "block print",
        ),
        colors=_ETHNIC_COLORS,
        occasions=("wedding", "party", "festive", "festive"),
        sizes=APPAREL_SIZES,
        price=(1999, 6500, 45000),
    ),
    "dupatta": CategorySpec(
        group="ethnic",
        share=4,
        subcategories=(
            ("dupatta", _W, None),
            ("stole", _U, "casual"),
            ("shawl", _U, None),
        ),
        genders=(_W,),
        fabrics=("chiffon", "georgette", "silk", "cotton", "net", "organza", "chanderi"),
        details=("phulkari", "bandhani", "gota patti", "zari", "leheriya", "block print", "kantha"),
        colors=_ETHNIC_COLORS,
        occasions=("wedding", "festive", "casual"),
        sizes=(FREE_SIZE,),
        price=(399, 1400, 12000),
    ),
    "salwar suit": CategorySpec(
        group="ethnic",
        share=7,
        subcategories=(
            ("salwar kameez", _W, None),
            ("patiala suit", _W, None),
            ("churidar suit", _W, None),
            ("palazzo suit", _W, "office"),
            ("sharara set", _W, "wedding"),
        ),
        genders=(_W,),
        fabrics=("cotton", "georgette", "silk", "rayon", "chanderi", "crepe"),
        details=(
            "chikankari", "block print", "thread work", "gota patti", "mirror work", "phulkari",
            "bandhani",
        ),
        colors=_ETHNIC_COLORS,
        occasions=("wedding", "festive", "office", "casual"),
        sizes=APPAREL_SIZES,
        price=(999, 3500, 25000),
    ),
    "dress": CategorySpec(
        group="western",
        share=8,
        subcategories=(
            ("maxi dress", _W, None),
            ("midi dress", _W, None),
            ("bodycon dress", _W, "party"),
            ("shift dress", _W, "office"),
            ("wrap dress", _W, None),
            ("gown", _W, "party"),
        ),
        genders=(_W,),
        fabrics=("cotton", "linen", "satin", "crepe", "chiffon", "georgette", "rayon", "denim"),
        details=_PATTERNS,
        colors=_WESTERN_COLORS,
        occasions=("party", "party", "office", "casual", "casual"),
        sizes=APPAREL_SIZES,
        price=(699, 2200, 18000),
        detail_key="pattern",
    ),
    "jeans": CategorySpec(
        group="western",
        share=7,
        subcategories=(
            ("skinny jeans", None, None),
            ("straight jeans", None, None),
            ("slim jeans", None, None),
            ("bootcut jeans", _W, None),
            ("mom jeans", _W, None),
            ("relaxed jeans", _M, None),
        ),
        genders=(_W, _M),
        fabrics=("denim",),
        details=("solid", "washed", "distressed", "ripped", "acid wash"),
        colors=("blue", "black", "grey", "white"),
        occasions=("casual",),
        sizes=WAIST_SIZES,
        price=(799, 2000, 6000),
        detail_key="pattern",
    ),
    "shirt": CategorySpec(
        group="western",
        share=7,
        subcategories=(
            ("formal shirt", None, "office"),
            ("casual shirt", None, "casual"),
            ("oxford shirt", _M, None),
            ("mandarin collar shirt", None, None),
            ("overshirt", _U, "casual"),
        ),
        genders=(_M, _W),
        fabrics=("cotton", "linen", "poplin", "denim", "rayon", "silk"),
        details=("solid", "striped", "checked", "floral print", "printed"),
        colors=_WESTERN_COLORS,
        occasions=("office", "office", "casual", "party"),
        sizes=APPAREL_SIZES,
        price=(599, 1500, 6000),
        detail_key="pattern",
    ),
    "t-shirt": CategorySpec(
        group="western",
        share=9,
        subcategories=(
            ("crew neck t-shirt", None, None),
            ("polo t-shirt", None, None),
            ("oversized t-shirt", _U, None),
            ("v-neck t-shirt", None, None),
            ("graphic t-shirt", _U, None),
        ),
        genders=(_M, _W, _U),
        fabrics=("cotton", "jersey", "polyester", "linen"),
        details=("solid", "striped", "graphic print", "tie dye", "colour block"),
        colors=_WESTERN_COLORS,
        occasions=("casual",),
        sizes=APPAREL_SIZES,
        price=(399, 799, 2500),
        detail_key="pattern",
    ),
    "jacket": CategorySpec(
        group="western",
        share=5,
        subcategories=(
            ("nehru jacket", _M, "festive"),
            ("denim jacket", None, "casual"),
            ("bomber jacket", None, None),
            ("blazer", None, "office"),
            ("puffer jacket", _U, "casual"),
            ("biker jacket", None, None),
        ),
        genders=(_M, _W),
        fabrics=("denim", "leather", "faux leather", "wool", "velvet", "polyester"),
        details=("solid", "quilted", "checked", "embroidered", "washed"),
        colors=("black", "blue", "brown", "grey", "green", "beige", "red"),
        occasions=("casual", "office", "party", "festive"),
        sizes=APPAREL_SIZES,
        price=(1499, 3500, 25000),
        detail_key="pattern",
    ),
    "shoes": CategorySpec(
        group="footwear",
        share=6,
        subcategories=(
            ("sneakers", None, "casual"),
            ("loafers", None, None),
            ("formal shoes", _M, "office"),
            ("mojari", None, "festive"),
            ("juttis", _W, "festive"),
            ("boots", None, None),
            ("running shoes", _U, "casual"),
        ),
        genders=(_M, _W, _U),
        fabrics=("leather", "suede", "canvas", "mesh", "faux leather"),
        details=("solid", "embroidered", "perforated", "textured"),
        colors=("black", "brown", "white", "beige", "blue", "grey", "gold"),
        occasions=("casual", "office", "party", "festive", "wedding"),
        sizes=SHOE_SIZES,
        price=(999, 2800, 18000),
        detail_key="pattern",
    ),
    "sandals": CategorySpec(
        group="footwear",
        share=4,
        subcategories=(
            ("kolhapuri sandals", None, None),
            ("heels", _W, "party"),
            ("flats", _W, "casual"),
            ("wedges", _W, None),
            ("slides", _U, "casual"),
            ("block heels", _W, None),
        ),
        genders=(_W, _M),
        fabrics=("leather", "faux leather", "suede"),
        details=("solid", "embroidered", "embellished", "braided"),
        colors=("black", "brown", "gold", "silver", "beige", "red", "pink"),
        occasions=("casual", "party", "festive", "wedding"),
        sizes=SANDAL_SIZES,
        price=(499, 1500, 8000),
        detail_key="pattern",
    ),
    "bags": CategorySpec(
        group="bags",
        share=4,
        subcategories=(
            ("tote bag", _W, None),
            ("sling bag", None, None),
            ("clutch", _W, "party"),
            ("potli bag", _W, "wedding"),
            ("backpack", _U, "casual"),
            ("handbag", _W, None),
        ),
        genders=(_W, _U),
        fabrics=("leather", "faux leather", "canvas", "jute", "velvet", "silk"),
        details=("solid", "embroidered", "quilted", "zari", "beaded", "printed"),
        colors=_ALL_COLORS,
        occasions=("casual", "office", "party", "wedding"),
        sizes=(FREE_SIZE,),
        price=(699, 2200, 35000),
        detail_key="pattern",
    ),
    "jewellery": CategorySpec(
        group="jewellery",
        share=5,
        subcategories=(
            ("necklace set", _W, None),
            ("jhumkas", _W, None),
            ("earrings", _W, None),
            ("bangles", _W, None),
            ("maang tikka", _W, "wedding"),
            ("choker", _W, None),
            ("ring", _U, None),
        ),
        genders=(_W,),
        fabrics=(
            "gold plated", "silver", "oxidised silver", "kundan", "polki", "american diamond",
            "brass",
        ),
        details=("pearl", "meenakari", "temple", "filigree", "stone studded", "ruby", "emerald"),
        colors=("gold", "silver"),
        occasions=("wedding", "party", "festive", "casual", "office"),
        sizes=(FREE_SIZE,),
        price=(299, 1800, 150000),
        material_key="material",
    ),
}

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
