"""Demo product pictures a shopper can tell apart: the category's silhouette, filled in the
product's colour with its pattern (stripes, checks, dots, a floral or abstract print, colour
block, embroidery), as a small SVG drawn from those three facts alone.

A picture is a function of (category, colour, accent, pattern), so it is deterministic: the
same product always gets the same bytes, and products that look alike share one URL, which
the browser fetches and caches once. The app serves them (`GET /pictures/product.svg`, see
app/routes/web.py) rather than putting data URIs in the cards: a URL keeps every search
payload and stored product small (a data URI is ~1.5 KB per card, in every event and every
stored document), is cached across products and pages, and stays an ordinary `image_url`
for API clients. Nothing from the request is written into the SVG but the names of known
categories, colours and patterns (no text a client chose).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

PATH = "/pictures/product.svg"

# Colour families (app/catalog/demo.py COLOR_FAMILIES) as fill colours.
COLOURS: dict[str, str] = {
    "red": "#c62828", "pink": "#e85a9b", "orange": "#ef7d22", "yellow": "#f2c12e", "green": "#2e8b57",
    "blue": "#2f5fb3", "purple": "#7e3fa0", "brown": "#7a4a26", "beige": "#d9c3a0", "white": "#f7f5f0",
    "black": "#222222", "grey": "#8a8f96", "gold": "#c9a227", "silver": "#b8bec6",
}
PATTERNS = ("solid", "stripes", "checks", "dots", "floral", "print", "block", "embroidered")

# The demo catalog's detail words (work or print) -> the pattern drawn.
_PATTERN_OF: dict[str, str] = {
    "striped": "stripes", "checked": "checks", "polka dot": "dots", "floral print": "floral",
    "printed": "floral", "block print": "floral", "kalamkari": "floral", "ajrakh": "print", "ikat": "print",
    "graphic print": "print", "abstract print": "print", "tie dye": "print", "bandhani": "dots",
    "leheriya": "stripes", "colour block": "block", "quilted": "checks", "perforated": "dots",
    **{work: "embroidered" for work in (
        "embroidered", "embellished", "beaded", "zari", "zardozi", "resham", "thread work", "stone work", "aari",
        "gota patti", "phulkari", "chikankari", "mirror work", "sequin", "kantha", "meenakari", "filigree",
        "stone studded", "temple", "ruby", "emerald", "pearl", "braided")},
}

# Silhouettes on a 160 x 160 canvas (those of static/products/<category>.svg).
SHAPES: dict[str, str] = {
    "anarkali": "M68 28h24l4 26H64zM64 54h32l28 72H36z",
    "bags": "M44 62h72l-6 64H50zM62 62v-8a18 18 0 0 1 36 0v8h-6v-8a12 12 0 0 0-24 0v8z",
    "dress": "M68 24h24l-2 14 6 16H64l6-16zM64 54h32l22 72H42z",
    "dupatta": "M40 40c30-10 50 10 80 0v22c-30 10-50-10-80 0zM46 66c28-8 44 10 68 2l-6 60c-20 6-36-8-56-2z",
    "jacket": "M62 24l18 8 18-8 22 16-6 90H90V56l-10-10-10 10v74H46l-6-90z",
    "jeans": "M56 28h48l6 102H88l-8-70-8 70H50z",
    "jewellery": "M44 46c0 34 16 56 36 56s36-22 36-56h6c0 38-19 62-42 62S38 84 38 46zM70 112a10 10 0 1 0 20 0a10 10 0 1 0-20 0",
    "kurta": "M64 26h32l20 14-8 18-8-6v74H60V52l-8 6-8-18z",
    "lehenga": "M66 30h28l-3 22H69zM69 54h22l30 70H39z",
    "salwar suit": "M64 24h32l16 12-6 16-6-4v40H60V48l-6 4-6-16zM62 92h36l-4 40H84l-4-30-4 30H66z",
    "sandals": "M40 106h84a6 6 0 0 1 0 12H40a6 6 0 0 1 0-12zM56 106c0-18 12-30 26-30s26 12 26 30h-7c0-14-8-23-19-23s-19 9-19 23z",
    "saree": "M62 28h30l4 30-10 70H58l-6-62zM92 30l18 24-20 10z",
    "sherwani": "M64 24h32l20 14-8 20-8-6v78H60V52l-8 6-8-20z",
    "shirt": "M64 26l16 10 16-10 20 12-8 20-8-6v76H60V52l-8 6-8-20z",
    "shoes": "M34 92c14 2 26-6 34-18l14 4c8 12 26 18 44 20a8 8 0 0 1 8 8v14H34z",
    "t-shirt": "M62 28c6 8 30 8 36 0l24 14-10 20-12-6v72H60V56l-12 6-10-20z",
    "product": "M60 52h40l8 10v44a6 6 0 0 1-6 6H58a6 6 0 0 1-6-6V62zM68 52v-6a12 12 0 0 1 24 0v6h-5v-6a7 7 0 0 0-14 0v6z",
}
_LABELS = {"bags": "bag", "product": "product"}


def shape_of(category: str | None) -> str:
    """The silhouette's name for a category (`product` for one without its own)."""
    name = (category or "").strip().lower().replace("-", " ")
    name = "t-shirt" if name == "t shirt" else name
    return name if name in SHAPES else "bags" if name == "bag" else "product"


def pattern_of(detail: str | None) -> str:
    return _PATTERN_OF.get((detail or "").strip().lower(), "solid")


def picture_url(product: Mapping[str, Any], detail: str | None) -> str:
    """The demo picture of a product: its category, first colour, second colour (the accent,
    else gold for embroidery and white for the rest) and the pattern of its `detail`."""
    colours = [c for c in product.get("colors") or () if c in COLOURS]
    params = {"category": shape_of(product.get("category")), "color": colours[0] if colours else "grey"}
    if len(colours) > 1:
        params["accent"] = colours[1]
    pattern = pattern_of(detail)
    if pattern != "solid":
        params["pattern"] = pattern
    return f"{PATH}?{urlencode(params)}"


def _ink(fill: str) -> str:
    """Dark or light lines on `fill`, whichever shows (by its luminance)."""
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return "#1f2328" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#ffffff"


def _tile(pattern: str, fill: str, accent: str) -> str:
    """The `<pattern>` the silhouette is filled with (empty for solid)."""
    body = {
        "stripes": f'<rect width="12" height="12" fill="{fill}"/><rect width="5" height="12" fill="{accent}"/>',
        "checks": (f'<rect width="12" height="12" fill="{fill}"/><rect width="6" height="6" fill="{accent}" '
                   f'opacity=".75"/><rect x="6" y="6" width="6" height="6" fill="{accent}" opacity=".75"/>'),
        "dots": f'<rect width="12" height="12" fill="{fill}"/><circle cx="6" cy="6" r="2.4" fill="{accent}"/>',
        "floral": (f'<rect width="12" height="12" fill="{fill}"/><g fill="{accent}"><circle cx="6" cy="3.6" r="1.8"/>'
                   '<circle cx="6" cy="8.4" r="1.8"/><circle cx="3.6" cy="6" r="1.8"/><circle cx="8.4" cy="6" r="1.8"/>'
                   f'</g><circle cx="6" cy="6" r="1.2" fill="{fill}"/>'),
        "print": (f'<rect width="12" height="12" fill="{fill}"/><path d="M0 12L12 0M-3 3L3-3M9 15L15 9" '
                  f'stroke="{accent}" stroke-width="2.5"/>'),
        "embroidered": (f'<rect width="12" height="12" fill="{fill}"/><path d="M6 2l1.4 2.6L10 6 7.4 7.4 6 10 '
                        f'4.6 7.4 2 6l2.6-1.4z" fill="{accent}"/>'),
    }.get(pattern)
    if body is None:
        return ""
    return f'<pattern id="p" width="12" height="12" patternUnits="userSpaceOnUse">{body}</pattern>'


def render(category: str, color: str, accent: str | None = None, pattern: str = "solid") -> str:
    """The SVG of a picture (known names only: `shape_of`, COLOURS, PATTERNS)."""
    shape = shape_of(category)
    fill = COLOURS[color]
    second = COLOURS[accent] if accent in COLOURS else COLOURS["gold"] if pattern == "embroidered" else _ink(fill)
    if second == fill:
        second = _ink(fill)
    tile = _tile(pattern, fill, second)
    paint = "url(#p)" if tile else fill
    label = _LABELS.get(shape, shape)
    text = f"{color} {label}"
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 160" width="160" height="160" role="img" '
        f'aria-label="{text}' + ("" if pattern == "solid" else f", {pattern}") + '">',
        f"<defs>{tile}</defs>" if tile else "",
        # A pale tint of the colour behind, so even a white product stands out.
        f'<rect width="160" height="160" fill="{fill}" opacity=".16"/><rect width="160" height="160" fill="#fff" opacity=".55"/>',
    ]
    if pattern == "block":  # two halves, colour and accent
        parts.append(f'<clipPath id="c"><path d="{SHAPES[shape]}"/></clipPath><g clip-path="url(#c)">'
                     f'<rect width="160" height="80" fill="{fill}"/><rect y="80" width="160" height="80" fill="{second}"/></g>')
    else:
        parts.append(f'<path d="{SHAPES[shape]}" fill="{paint}"/>')
    parts.append(f'<path d="{SHAPES[shape]}" fill="none" stroke="#1f2328" stroke-opacity=".35" stroke-width="1.5"/>')
    parts.append(f'<text x="80" y="150" text-anchor="middle" font-family="sans-serif" font-size="11" '
                 f'fill="#3a3f45">{text}</text></svg>')
    return "".join(parts)
