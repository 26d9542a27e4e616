"""The Nu HTML Checker over every HTML document the browser tests loaded.

`HtmlCollector.attach(browser)` watches each context the browser opens: every response
to a document request (a navigation, a form post, a frame) that is HTML is kept as the
server sent it. htmx requests are not documents (they are fetch/xhr requests answered
with fragments), so only whole pages are kept. At the end of the browser session
`check()` writes the pages to a folder and runs vnu once over all of them (one JVM
start), and fails with each error: the page's URL, the line and the message.

vnu knows nothing of htmx: its complaints about `hx-*` attributes are left out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess  # nosec B404 - runs java on the pinned vnu.jar only
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Error, Response

ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# "Attribute “hx-post” not allowed on element “form” at this point." and the like.
HX_ATTRIBUTE = "Attribute “hx-"


@dataclass
class _Seen:
    response: Response
    context: BrowserContext
    body: bytes | None = None


@dataclass
class _Document:
    body: bytes
    urls: list[str] = field(default_factory=list)


def _is_html_document(response: Response) -> bool:
    if response.request.resource_type != "document":
        return False
    if 300 <= response.status < 400:  # a redirect: the page is the next response
        return False
    content_type = response.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower() == "text/html"


class HtmlCollector:
    """Keeps the body of every HTML document the watched browser contexts receive."""

    def __init__(self) -> None:
        self._seen: list[_Seen] = []

    def attach(self, browser: Browser) -> None:
        """Watch every context made by `browser.new_context` from now on."""
        new_context = browser.new_context

        def watched_new_context(*args, **kwargs) -> BrowserContext:
            context = new_context(*args, **kwargs)
            self.watch(context)
            return context

        browser.new_context = watched_new_context

    def watch(self, context: BrowserContext) -> None:
        context.on("response", lambda response: self._on_response(response, context))
        close = context.close

        def read_then_close(*args, **kwargs) -> None:
            self.read_pending(context)  # the last page's body goes with its context
            close(*args, **kwargs)

        context.close = read_then_close

    def _on_response(self, response: Response, context: BrowserContext) -> None:
        if _is_html_document(response):
            seen = _Seen(response, context)
            self._seen.append(seen)
            self._read(seen)

    @staticmethod
    def _read(seen: _Seen) -> None:
        # Chromium drops a document's body once the page has moved on: read it at once.
        if seen.body is None:
            with contextlib.suppress(Error):  # gone already: reported as not checked
                seen.body = seen.response.body()

    def read_pending(self, context: BrowserContext | None = None) -> None:
        """Read what the event handlers have not read yet (in `context`, or anywhere)."""
        for seen in self._seen:
            if context is None or seen.context is context:
                self._read(seen)

    def documents(self) -> tuple[list[_Document], list[str]]:
        """The distinct documents read (each with the URLs that served it), and the URLs
        of those whose body could not be read any more."""
        self.read_pending()
        documents: dict[str, _Document] = {}
        unread = []
        for seen in self._seen:
            url = seen.response.url
            if seen.body is None:
                unread.append(url)
                continue
            key = hashlib.sha256(seen.body).hexdigest()
            documents.setdefault(key, _Document(seen.body)).urls.append(url)
        return list(documents.values()), unread

    def check(self, folder: Path) -> None:
        """Run vnu over every document read; fail on any error but the hx-* ones."""
        documents, unread = self.documents()
        if not documents:
            return
        if not VNU_JAR.exists():
            pytest.fail(f"{VNU_JAR} is missing: run `npm ci` (make test-deps does)", pytrace=False)
        java = shutil.which("java")
        if java is None:
            pytest.fail("java is missing: install a JRE 17+ (make test-deps does)", pytrace=False)
        files: dict[str, _Document] = {}  # by file name
        for number, document in enumerate(documents, start=1):
            path = folder / f"page-{number:04d}.html"
            path.write_bytes(document.body)
            files[path.name] = document
        run = subprocess.run(  # nosec B603 - fixed arguments, our own files
            [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--stdout"]
            + ["--exit-zero-always", *(str(folder / name) for name in files)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        try:
            messages = json.loads(run.stdout)["messages"]
        except (ValueError, KeyError):
            pytest.fail(f"vnu gave no report:\n{run.stdout}\n{run.stderr}", pytrace=False)
        errors = [m for m in messages if not m.get("message", "").startswith(HX_ATTRIBUTE)]
        if not errors:
            return
        lines = [
            f"The Nu HTML Checker found {len(errors)} errors in {len(documents)} pages "
            f"the browser tests loaded (hx-* attributes aside; pages kept in {folder}):"
        ]
        for message in errors:
            document = files.get(Path(urlsplit(message.get("url", "")).path).name)
            where = ", ".join(dict.fromkeys(_path(u) for u in document.urls)) if document else ""
            lines.append(
                f"  {where or message.get('url', '?')} line {message.get('lastLine', '?')}: "
                f"{message.get('message', message)}"
            )
            if message.get("extract"):
                lines.append(f"      {message['extract'].strip()}")
        if unread:
            lines.append(
                f"Not checked (gone from the browser before they could be read): "
                f"{', '.join(_path(url) for url in unread)}"
            )
        pytest.fail("\n".join(lines), pytrace=False)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
