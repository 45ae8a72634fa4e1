"""PDF rendering with WeasyPrint, confined to the project's own static files.

WeasyPrint resolves every URL a document names (stylesheets, images, fonts, SVG references)
through a URL fetcher. The default one opens any `file://` path and any network address, so a
template that ever contains a user-supplied URL could pull `/etc/passwd` or an internal service into
a PDF (house style, "Pitfalls"). `StaticOnlyURLFetcher` reads only files inside the static
directories and `data:` URLs; it refuses everything else without opening it and logs the refusal.

Output is PDF/A-3b: fonts embedded (WeasyPrint embeds subsets of the fonts it uses), an sRGB output
intent and XMP metadata with the PDF/A identification, so records stay readable in an archive.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

PDF_VARIANT = "pdf/a-3b"


class RefusedURL(ValueError):
    """A URL the PDF renderer may not fetch. WeasyPrint catches it, warns and renders without the
    resource (a ValueError is what its own fetcher raises for a disallowed protocol)."""


def static_roots() -> tuple[Path, ...]:
    """The directories whose files a rendered document may use: STATICFILES_DIRS and STATIC_ROOT."""
    roots: list[Path] = []
    for entry in settings.STATICFILES_DIRS:
        # An entry may be a (prefix, path) pair.
        roots.append(Path(entry[1] if isinstance(entry, tuple | list) else entry))
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return tuple(root.resolve() for root in roots if root.is_dir())


def static_base_url() -> str:
    """A `file:` base URL for templates that name static files by relative path (`css/x.css`)."""
    roots = static_roots()
    if not roots:
        raise ImproperlyConfigured("No static directory exists: set STATICFILES_DIRS or STATIC_ROOT.")
    return roots[0].as_uri() + "/"


class StaticOnlyURLFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """Serves `file:` URLs inside the static directories and `data:` URLs; refuses the rest.

    WeasyPrint 70 takes a URLFetcher instance (no longer a plain function). Files are read directly,
    never through urllib, so no handler (HTTP, FTP, redirects) is reachable from a document.
    `refused` lists the URLs turned away during this fetcher's life (one render).
    """

    def __init__(self, roots: Iterable[Path] | None = None) -> None:
        # The parent's own checks are a second fence: only file/data, no redirects, short timeout.
        super().__init__(timeout=1, allowed_protocols=("file", "data"), allow_redirects=False, fail_on_errors=False)
        self.roots = tuple(roots) if roots is not None else static_roots()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = self._static_file(url)
            if path is not None:
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})
        self.refused.append(url)
        logger.warning("PDF rendering refused to fetch %s: only the project's static files are allowed", url)
        raise RefusedURL(f"Refused to fetch {url}: only the project's static files are allowed.")

    def _static_file(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        # resolve() collapses `..` and follows symlinks, so neither can lead out of a root.
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_file():
            return None
        return path if any(path.is_relative_to(root) for root in self.roots) else None


def render_pdf(html: str, base_url: str) -> bytes:
    """Render an HTML document to PDF/A-3b bytes, fetching nothing outside the static files.

    `base_url` resolves the document's relative URLs (use `static_base_url()`). A refused resource
    is left out of the PDF; rendering still completes.
    """
    document = HTML(string=html, base_url=base_url, url_fetcher=StaticOnlyURLFetcher())
    pdf: bytes = document.write_pdf(pdf_variant=PDF_VARIANT)
    return pdf
