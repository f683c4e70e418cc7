"""Configuration: environment variables with offline defaults (see `settings.py`)."""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
