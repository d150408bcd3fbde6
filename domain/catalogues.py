"""The gettext catalogues of locale/, shared by the letters (activities/rendering.py, in the
worker) and the console (api/console/i18n.py, in the API), so that neither imports the other:
a .po compiled in memory (no compile step, no .mo in the repository), and the gettext / ngettext
a Jinja template calls, with Jinja's newstyle semantics."""

from __future__ import annotations

import io
from collections.abc import Callable
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def compiled(language: str, domain: str) -> Translations:
    """locale/<language>/LC_MESSAGES/<domain>.po, compiled in memory."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=domain)


def jinja_callables(
    catalogue: NullTranslations,
) -> tuple[Callable[..., str], Callable[..., str]]:
    """gettext and ngettext for templates: the placeholders are filled after translating, and
    the translated text is escaped where the template autoescapes."""

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        text = catalogue.gettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables else text

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = catalogue.ngettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return gettext, ngettext
