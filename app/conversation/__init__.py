"""What the chat and the sales agent share: the conversation's recent turns, the uploaded
documents an answer quotes, how an answer states products and quotes documents, the answer
as it is stored and spoken, and a stored message as the history routes show it. It depends
on neither feature, so neither depends on the other (tests/platform/test_layers.py)."""
