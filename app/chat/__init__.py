"""The chat answer: conversation memory, retrieval, a language model, speech, suggestions."""
