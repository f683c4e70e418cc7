"""Rate limiting: one shared request budget (slowapi) and a concurrent-stream cap per client."""
