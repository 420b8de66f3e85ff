"""convarith's local web page (the optional extra ``convarith[web]``: Starlette and uvicorn).

``serve()`` runs it; ``web.app.create_app()`` builds the app; ``web.handlers`` holds what
each JSON endpoint answers, with no web library involved.
"""

from __future__ import annotations

from ..errors import ConvArithError

__all__ = ["serve"]


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False) -> None:
    """Serve the page until Ctrl-C; ConvArithError when the web extra is missing."""
    try:
        import uvicorn

        from .app import create_app
    except ImportError as exc:
        raise ConvArithError(
            f"convarith serve needs the web extra ({exc.name} is not installed). Rule: the page runs on Starlette "
            "and uvicorn. Fix: pip install 'convarith[web]'."
        ) from None
    import sys

    print(f"convarith page at http://{host}:{port}/ (Ctrl-C stops)", file=sys.stderr)
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, (f"http://{host}:{port}/",)).start()
    uvicorn.run(create_app(host), host=host, port=port, log_level="warning")
