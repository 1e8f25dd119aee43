"""Concrete values a plan has the user state: from the schema (enum, default, example) first, then from the
parameter's name, description, format and type; seeded, so a plan's values are reproducible. Generic rules
only: nothing here names a tool of any dev set.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from toolflow.engine.schema_norm import canonical_type, convert_value, value_fits

SCALARS = ("string", "integer", "number", "boolean")


def param_type(schema: dict[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    if isinstance(t, str):
        return canonical_type(t)
    if "enum" in schema and schema["enum"]:
        v = schema["enum"][0]
        return "string" if isinstance(v, str) else "boolean" if isinstance(v, bool) else \
            "integer" if isinstance(v, int) else "number" if isinstance(v, float) else None
    return None


def coerce(value: Any, schema: dict[str, Any]) -> Any:
    """`value` converted to the parameter's type where that loses nothing (an id returned as 4821 passed
    to a string parameter becomes "4821"); the rule is `schema_norm.convert_value`."""
    return convert_value(value, param_type(schema))[0]


# -- concrete values the user states -----------------------------------------------------------------


_CITIES = ["Lisbon", "Barcelona", "Chicago", "Osaka", "Melbourne", "Toronto", "Vienna", "Nairobi", "Seattle",
           "Munich", "Buenos Aires", "Prague"]
_COUNTRIES = [("Portugal", "PT"), ("Spain", "ES"), ("Canada", "CA"), ("Japan", "JP"), ("Germany", "DE"),
              ("Kenya", "KE"), ("Australia", "AU"), ("Brazil", "BR")]
_PEOPLE = ["Maria Silva", "James Carter", "Aiko Tanaka", "Lena Fischer", "Omar Haddad", "Sofia Rossi"]
_LANGS = ["en", "fr", "de", "es", "it", "pt"]
_LANG_NAMES = ["English", "French", "German", "Spanish", "Italian", "Portuguese"]
_CURRENCIES = ["EUR", "USD", "GBP", "JPY", "CAD", "CHF"]
_TOPICS = ["vegan restaurants", "jazz concerts", "electric bikes", "hiking trails", "coffee roasters",
           "science museums", "budget hotels", "running shoes", "train tickets", "street food"]
_SENTENCES = ["Where is the nearest train station?", "Thank you for your help with the booking.",
              "The meeting is moved to Friday afternoon.", "Good morning, how are you today?"]
_STOP = frozenset(["the", "a", "an", "of", "for", "by", "in", "on", "to", "and", "or", "with", "from", "is", "are", "be", "this", "that", "its", "your", "you", "any", "e.g", "eg", "given", "name", "value", "string", "number", "id"])


def _words(name: str) -> str:
    return " ".join(re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ").split()).lower()


def _example_in(description: str) -> str | None:
    """The example a description gives (``City name, e.g. Lisbon`` → ``Lisbon``)."""
    m = re.search(r"\b(?:e\.g\.|eg\.|for example|example:|such as)[,:]?\s*[\"'`]?([^\"'`,;()]{2,40})",
                  description, re.IGNORECASE)
    if not m:
        return None
    text = m.group(1).strip().rstrip(".")
    return text if text and len(text.split()) <= 4 else None


def user_value(name: str, schema: dict[str, Any], rng: random.Random) -> Any:
    """A concrete, realistic value for parameter `name` that a person could state: the schema's enum,
    default or example first, else one made from the name, description and type. Never tuned to a tool
    set: the rules read only generic words (city, date, email, language, …) and JSON Schema keywords."""
    kind = param_type(schema)
    enum = [v for v in schema.get("enum") or [] if v is not None]
    if enum:
        return rng.choice(enum)
    examples = schema.get("examples") if isinstance(schema.get("examples"), list) else []
    for v in [schema.get("default"), schema.get("example"), *examples[:1]]:
        if _usable_example(v, kind):
            return coerce(v, schema)
    desc = str(schema.get("description") or "")
    words = _words(name)
    text = f"{words} {desc}".lower()
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("integer", "number"):
        return _number(words, text, schema, rng, integer=kind == "integer")
    if kind == "array":
        item = schema.get("items") if isinstance(schema.get("items"), dict) else {"type": "string"}
        return [user_value(name.rstrip("s") or name, item, rng)]
    if kind == "object":
        props = schema.get("properties") or {}
        req = [r for r in schema.get("required") or [] if r in props] or list(props)[:2]
        return {k: user_value(k, props[k], rng) for k in req}
    example = _example_in(desc)
    if example:
        return example
    return _string(words, text, schema, rng)


#: Longer schema examples are documents, not something a person types in a chat message.
EXAMPLE_CHARS = 60


def _usable_example(v: Any, kind: str | None) -> bool:
    """A schema default/example a user could state for a parameter of type `kind`: a scalar of a fitting
    type, a short string (a JSON document given as a string default is not)."""
    if v in (None, "", [], {}) or isinstance(v, dict | list):
        return False
    if isinstance(v, str) and (len(v) > EXAMPLE_CHARS or "\n" in v):
        return False
    if kind in ("object", "array"):
        return False
    return value_fits(v, kind) or convert_value(v, kind)[1] is not None


def _number(words: str, text: str, schema: dict[str, Any], rng: random.Random, *, integer: bool) -> Any:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if re.search(r"\blat", words):
        v: float = round(rng.uniform(-50, 60), 4)
    elif re.search(r"\b(lon|lng)", words):
        v = round(rng.uniform(-120, 140), 4)
    elif re.search(r"year", text):
        v = rng.choice([2024, 2025, 2026])
    elif re.search(r"price|amount|budget|cost|salary", text):
        v = rng.choice([120, 250, 480, 1500])
    elif re.search(r"\b(id|number)\b", words):
        v = rng.randint(1000, 99999)
    else:
        v = rng.randint(1, 5)
    if isinstance(lo, int | float):
        v = max(v, lo)
    if isinstance(hi, int | float):
        v = min(v, hi)
    return int(v) if integer else v


def _string(words: str, text: str, schema: dict[str, Any], rng: random.Random) -> str:
    fmt = str(schema.get("format") or "")
    if fmt == "date" or re.search(r"\bdate\b|yyyy|check in|check out|\bday\b|birthday", text):
        return f"2026-{rng.randint(3, 11):02d}-{rng.randint(10, 28):02d}"
    if fmt == "date-time":
        return f"2026-{rng.randint(3, 11):02d}-{rng.randint(10, 28):02d}T{rng.randint(8, 19):02d}:30:00"
    if re.search(r"\btime\b|hour", words):
        return f"{rng.randint(8, 19):02d}:30"
    if "email" in text or "e-mail" in text:
        first = rng.choice(_PEOPLE).split()[0].lower()
        return f"{first}.{rng.randint(10, 99)}@example.com"
    if re.search(r"phone|mobile|msisdn", text):
        return f"+1 415 555 {rng.randint(1000, 9999)}"
    if re.search(r"\burl\b|link|website|domain", words):
        return f"https://www.example.com/{rng.choice(['news', 'shop', 'blog', 'docs'])}"
    if re.search(r"currenc", text):
        return rng.choice(_CURRENCIES)
    if re.search(r"lang", words):
        return rng.choice(_LANGS if re.search(r"code|iso|2.letter", text) else _LANG_NAMES)
    if re.search(r"country", words):
        country, code = rng.choice(_COUNTRIES)
        return code if re.search(r"code|iso", text) else country
    if re.search(r"city|town|location|place|address|destination|origin|near|region|area|airport|station", text):
        return rng.choice(_CITIES)
    if re.search(r"(first|last|full|user|customer|person|author|contact)\s?name|\bname\b", words):
        return rng.choice(_PEOPLE)
    if re.search(r"json|payload|body", words):
        return json.dumps({"name": rng.choice(_PEOPLE), "note": rng.choice(_TOPICS)})
    if re.search(r"file|path|filename|document", words):
        return f"{rng.choice(['report', 'invoice', 'notes', 'photo'])}-{rng.randint(10, 99)}.{rng.choice(['pdf', 'txt'])}"
    if re.search(r"code$", words.replace(" ", "")):  # currency/country codes matched above; other codes
        return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
    if re.search(r"(^|\s)(id|ids|ref|reference|code|key|token|number|no)$", words):
        letters = "".join(w[0] for w in words.split()[:2]).upper() or "X"
        return f"{letters}-{rng.randint(10000, 99999)}"
    if re.search(r"\btext\b|message|sentence|content|body", words):
        return rng.choice(_SENTENCES)
    if re.search(r"query|search|keyword|term|\bq\b|topic|category|type|genre|cuisine", words):
        return rng.choice(_TOPICS)
    content = [w for w in re.findall(r"[a-z]{4,}", text) if w not in _STOP]
    return rng.choice(_TOPICS) if not content else f"{rng.choice(_TOPICS).split()[0]} {content[0]}"


# -- building the blueprint --------------------------------------------------------------------------
