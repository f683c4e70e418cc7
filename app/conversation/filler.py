"""The words a follow-up is padded with ("and what about those in blue?"): what is left once
they are dropped tells whether a message says anything of its own."""

from __future__ import annotations

FILLER = frozenset(
    "and or in it them those these ones one what about show me any do you have got with a the "
    "also same but please how is are there".split()
)
