"""The product catalog: row validation, file import, and the generated demo catalog."""
