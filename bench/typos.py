"""One typo per query, deterministic: the misspelt twin of a relevance query set.

`one_typo(query, seed)` picks one word of 5+ letters (letters only) and applies one edit to
it: a deletion, an insertion, a substitution (a random other letter a-z) or a swap of two
adjacent letters, chosen at random, never at the first letter (shoppers rarely mistype it,
and every peer's fuzzy matching is allowed to assume so). The random generator is seeded by
`f"{seed}:{query}"`, so a query's typo does not depend on the rest of the set. A query
without such a word is returned unchanged. The edited word may happen to be a real word.
"""

from __future__ import annotations

import random
import string

SEED = 15
MIN_LETTERS = 5


def one_typo(query: str, seed: int = SEED) -> str:
    """`query` with one edit in one of its words of `MIN_LETTERS`+ letters."""
    rng = random.Random(f"{seed}:{query}")
    words = query.split()
    eligible = [i for i, w in enumerate(words) if len(w) >= MIN_LETTERS and w.isalpha()]
    if not eligible:
        return query
    i = rng.choice(eligible)
    word = words[i]
    kind = rng.choice(("delete", "insert", "substitute", "swap"))
    letters = string.ascii_lowercase
    if kind == "insert":
        at = rng.randrange(1, len(word))
        word = word[:at] + rng.choice(letters) + word[at:]
    else:
        at = rng.randrange(1, len(word) - 1)
        if kind == "delete":
            word = word[:at] + word[at + 1 :]
        elif kind == "substitute":
            word = word[:at] + rng.choice(letters.replace(word[at], "")) + word[at + 1 :]
        else:
            word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    words[i] = word
    return " ".join(words)
