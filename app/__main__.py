"""Command line.

    python -m app serve                      serve the platform (HOST, PORT)
    python -m app catalog import FILE        CSV or JSONL into the catalog, validated row by row
    python -m app catalog stats              counts
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from config.settings import ConfigError, Settings, load_settings


def serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from app.main import create_app
    from app.server import Server

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=settings.log_level.lower(),
        proxy_headers=False,  # the limiter decides whom to trust (TRUSTED_PROXIES)
        access_log=False,
        # JSON logs: uvicorn's lines go through the root handler too (app/logs.py).
        log_config=None if settings.log_format == "json" else LOGGING_CONFIG,
    )
    # Exit within SHUTDOWN_GRACE_S of SIGTERM whatever clients do: `Server` sets uvicorn's
    # graceful-shutdown timeout to what is left of the grace when the shutdown starts.
    platform = app.state.platform  # the app's composition root: its SIGTERM starts the grace
    Server(config, grace_s=settings.shutdown_grace_s, sigterm_at=lambda: platform.sigterm_at).run()
    return 0


async def _with_store(settings: Settings, work) -> int:
    from app.store.embedded import EmbeddedMongo
    from app.store.mongo import Store

    embedded = None
    url = settings.mongodb_url
    if not url:
        embedded = EmbeddedMongo(settings.data_dir)
        url, owned = embedded.start_or_attach()
        if not owned:
            embedded = None
    store = Store.connect(url, settings.mongodb_db, settings.mongodb_timeout_ms)
    try:
        await store.ensure_indexes()
        return await work(store)
    finally:
        await store.close()
        if embedded is not None:
            embedded.stop()


def catalog_import(settings: Settings, args: argparse.Namespace) -> int:
    from app.catalog.importer import import_file, progress_bar
    from app.search.embedder import Embedder
    from app.search.service import SearchService

    path = Path(args.file)
    if not path.is_file():
        print(f"storestream: no such file: {path}", file=sys.stderr)
        return 2

    async def work(store) -> int:
        from app.threads import cap_blas

        cap_blas(settings.blas_threads)
        embedder = None
        if settings.search_embeddings and not args.no_embeddings:
            embedder = Embedder(threads=settings.torch_threads, model_path=settings.embedding_model_path)
            await embedder.aload()
        search = SearchService(embedder, exact_max=settings.vector_exact_max)
        try:
            report = await import_file(path, store.products, search, batch_size=args.batch,
                                       progress=progress_bar)
        except ValueError as exc:
            print(f"storestream: {exc}", file=sys.stderr)
            return 2
        for line, reason in report.errors:
            print(f"line {line}: {reason}")
        print(f"{report.imported} products imported, {len(report.errors)} rows refused, "
              f"{report.rows} rows read")
        return 0 if report.imported or not report.rows else 1

    return asyncio.run(_with_store(settings, work))


def catalog_stats(settings: Settings, args: argparse.Namespace) -> int:
    async def work(store) -> int:
        collection = store.products.collection
        total = await collection.count_documents({})
        in_stock = await collection.count_documents({"in_stock": True})
        embedded = await collection.count_documents({"embedding_model": {"$exists": True}})
        print(f"products: {total}\nin stock: {in_stock}\nwith embeddings: {embedded}")
        categories = await (await collection.aggregate(
            [{"$group": {"_id": "$category", "n": {"$sum": 1}}}, {"$sort": {"n": -1}}]
        )).to_list(None)
        for row in categories:
            print(f"  {row['_id'] or '(none)'}: {row['n']}")
        return 0

    return asyncio.run(_with_store(settings, work))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m app", description="storestream")
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the platform")
    run.add_argument("--host", help="overrides HOST")
    run.add_argument("--port", type=int, help="overrides PORT")
    run.set_defaults(handler=serve)
    catalog = commands.add_parser("catalog", help="catalog tools").add_subparsers(dest="action", required=True)
    load = catalog.add_parser("import", help="import a CSV or JSONL file")
    load.add_argument("file")
    load.add_argument("--batch", type=int, default=500, help="products per write")
    load.add_argument("--no-embeddings", action="store_true", help="leave embeddings to the server")
    load.set_defaults(handler=catalog_import)
    show = catalog.add_parser("stats", help="print catalog counts")
    show.set_defaults(handler=catalog_stats)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"storestream: {exc}", file=sys.stderr)
        return 2
    return args.handler(settings, args)


if __name__ == "__main__":
    sys.exit(main())
