"""storestream: streaming commerce AI for storefronts over Server-Sent Events."""
