"""Command line: `python -m app serve` (more subcommands join as the platform grows)."""

from __future__ import annotations

import argparse
import sys

from config.settings import ConfigError, load_settings


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m app serve", description="Serve the platform")
    parser.add_argument("--host", help="overrides HOST")
    parser.add_argument("--port", type=int, help="overrides PORT")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"storestream: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    from app.main import create_app

    app = create_app(settings)
    uvicorn.run(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=settings.log_level.lower(),
        proxy_headers=False,  # the limiter decides whom to trust (TRUSTED_PROXIES)
        access_log=False,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"serve": serve}
    if not argv or argv[0] not in commands:
        print("usage: python -m app {" + ",".join(commands) + "} ...", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
