"""Troika, the storefront sales agent: intent analysis, slot extraction, tools and memory."""
