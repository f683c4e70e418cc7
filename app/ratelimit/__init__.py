"""Rate limiting: one shared request budget (moving window) and a concurrent-stream cap per client."""
