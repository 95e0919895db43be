"""A loopback server that answers like the Hugging Face hub's file endpoints."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@contextmanager
def serve_hf(
    files: dict[str, bytes], etags: dict[str, str] | None = None
) -> Iterator[tuple[str, list[str]]]:
    """Serve {"owner/repo/file": bytes}; yield (endpoint URL, request log)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _headers(self) -> bytes | None:
            seen.append(f"{self.command} {self.path} {self.headers.get('Range', '')}")
            key = self.path.split("?")[0].lstrip("/").replace("/resolve/main/", "/")
            if key not in files:
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            body = files[key]
            etag = (etags or {}).get(key) or hashlib.sha256(body).hexdigest()
            start = 0
            if self.headers.get("Range", "").startswith("bytes="):
                start = int(self.headers["Range"][6:].split("-")[0])
                self.send_response(206)
                self.send_header(
                    "Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}"
                )
            else:
                self.send_response(200)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{etag}"')
            self.send_header("X-Linked-Etag", f'"{etag}"')
            self.send_header("X-Linked-Size", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            return body[start:]

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            self._headers()

        def do_GET(self) -> None:  # noqa: N802
            body = self._headers()
            if body is not None:
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
