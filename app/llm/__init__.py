"""Language models behind one interface (`base.py`): `grounded` (default, offline,
deterministic: composes answers only from retrieved facts) and `openai` (any
OpenAI-compatible chat-completions server: `openai.py` over `prompts.py`, `transport.py` and
`retry.py`)."""
