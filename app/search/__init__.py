"""Product search: a seeded demo catalog, text normalisation, a BM25 index and a query parser."""
