"""The ecosystem's protocols as mappings of our events (docs/protocols.md): `openai_chat.py`, OpenAI chat completions."""
