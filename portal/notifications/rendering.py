"""E-mails from templates, and text made into safe HTML with clickable links.

Rendered with the app's Jinja environment but outside any request: the scheduler
process renders the e-mails that events expand into.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import current_app
from markupsafe import Markup, escape


def render_email(template: str, **context) -> tuple[str, str, str]:
    """(subject, text, html) from a text template that sets `subject` at its top.

    No context processor runs (there is no request). The HTML part is the text with its
    paragraphs kept and its links clickable.
    """
    module = current_app.jinja_env.get_template(template).make_module(context)
    subject = " ".join(str(getattr(module, "subject", "")).split())
    # Optional lines in a template leave runs of blank lines: keep at most one.
    text = re.sub(r"\n\s*\n(\s*\n)+", "\n\n", str(module)).strip() + "\n"
    html = current_app.jinja_env.get_template("email/_layout.html").render(
        subject=subject, paragraphs=paragraphs(text)
    )
    return subject, text, html


def service_phrase(name: str) -> str:
    """'Boiler service' -> 'boiler service' for the middle of a sentence; 'EV charger' stays."""
    if len(name) > 1 and name[:2].isupper():
        return name
    return name[:1].lower() + name[1:]


_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(
    text: str, *, breakable: bool = False, link_if: Callable[[str], bool] | None = None
) -> Markup:
    """Escape `text` and make each http(s) URL in it a link (those `link_if` accepts).

    `breakable` lets a long link wrap on a narrow screen (a <wbr> after each / . ? & =).
    """
    out, last = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,);")
        if link_if is not None and not link_if(url):
            continue  # stays in the text, escaped with what follows
        out.append(escape(text[last : match.start()]))
        label = escape(url)
        if breakable:
            label = Markup("<wbr>").join(escape(p) for p in re.split(r"(?<=[/.?&=])", url))
        out.append(Markup('<a href="{0}">{1}</a>').format(url, label))
        last = match.start() + len(url)
    out.append(escape(text[last:]))
    return Markup("").join(out)


def paragraphs(text: str) -> list[Markup]:
    """The text's paragraphs (split on blank lines), linkified, line breaks kept."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return [Markup("<br>\n").join(linkify(line) for line in b.split("\n")) for b in blocks]
