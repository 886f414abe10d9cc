"""Languages (api.md, Languages; design.md, Languages): which language a text is wanted in,
and the gettext catalogues that hold the translations.

- `languages`: the supported list and `best_language(Accept-Language)`;
- `catalogues`: translation by an explicit language (`translate(lang, text)`), for services
  and the tick, which never read a request; and the compiling of `.po` into `.mo`;
- `selection`: the language of the request being answered (`?lang=` on a GET, else the
  signed-in user's `language`, else Accept-Language): Flask-Babel's locale selector, and what
  a route passes to a service.
"""
from __future__ import annotations

from .catalogues import N_, NP_, translate, translate_plural
from .languages import DEFAULT, SUPPORTED, best_language, supported

__all__ = ["DEFAULT", "SUPPORTED", "N_", "NP_", "best_language", "supported", "translate", "translate_plural"]
