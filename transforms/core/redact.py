"""Secrets out of every text the tool writes: logs, dead letters, rejections, manifests.

A :class:`Redactor` knows some secrets (API keys, tokens) and replaces each of them with
``***`` wherever it shows, in whatever form an error text may carry it:

* the secret itself and the secret without surrounding whitespace (a key read from a
  file often ends in a newline);
* escaped: Python ``repr`` of the text and of its UTF-8 bytes (``'sk\\n'``,
  ``b'sk\\xc3\\xa9'``: what HTTP libraries print for a bad header), JSON with and
  without ``ensure_ascii``, ``unicode_escape``, and each of these twice over (an error
  text inside a JSON payload inside a log line);
* URL-encoded (``quote`` with and without ``/`` kept safe, ``quote_plus``), base64;
* any run of 8 or more characters of the secret that no escaping changes
  (``A-Z a-z 0-9 . _ ~ -``): what is left of a secret in a form not listed here.

Credentials inside URLs are redacted whatever the secret: the userinfo
(``https://user:pass@host`` → ``https://***@host``) and the values of query
parameters named like credentials (``api_key``, ``key``, ``token``, ``access_token``,
``secret``, ``password``, ``sig``…), and the token of a ``Bearer``, ``Basic`` or
``Authorization:`` value (an HTTP client sends a URL's userinfo as Basic auth).

The secrets are the values of environment variables: those a config names
(``api_key_env``) and any whose name looks like a credential (``*API_KEY*``,
``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``). A Redactor is built where it is used,
from the variables' names (:meth:`Redactor.from_env`), so the secret values never
travel inside a pipeline's serialized graph. Beam-free.
"""
from __future__ import annotations

import base64
import json
import os
import re
import urllib.parse
from typing import Any, Iterable, List, Optional, Sequence

MASK = "***"
#: Environment variables whose values are secrets whatever the config says.
SECRET_ENV_NAME = re.compile(r"API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
#: The shortest value of such a variable taken as a secret (shorter ones are flags, not keys).
MIN_ENV_SECRET_CHARS = 8
#: The shortest run of a secret's characters redacted on its own.
MIN_FRAGMENT_CHARS = 8
#: The shortest secret redacted at all (a one-letter "key" would blank every text).
MIN_SECRET_CHARS = 4

_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"<>]+@")
_URL_QUERY_SECRET = re.compile(
    r"(?i)([?&;#](?:[a-z0-9_.-]*?)(?:api[_-]?key|apikey|key|token|access[_-]?token|secret|client[_-]?secret|"
    r"password|passwd|pwd|auth|sig|signature|credential)=)[^&#\s'\"<>]*")
_AUTH_VALUE = re.compile(r"\b(Bearer\s+|Basic\s+(?=[A-Za-z0-9+/]{12,}=*)|"
                         r"[Aa]uthorization[\"']?\s*[:=]\s*[\"']?(?:Basic\s+|Token\s+)?)"
                         r"[A-Za-z0-9._~+/=-]{8,}")


def _escapes(text: str) -> List[str]:
    """The escaped forms of ``text`` (each without its surrounding quotes)."""
    forms = [
        repr(text)[1:-1],
        repr(text.encode("utf-8", "surrogatepass"))[2:-1],
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        text.encode("unicode_escape").decode("ascii"),
        urllib.parse.quote(text, safe=""),
        urllib.parse.quote(text),
        urllib.parse.quote_plus(text),
    ]
    return forms


def secret_forms(secret: str) -> List[str]:
    """Every form of ``secret`` a Redactor replaces whole (longest first)."""
    seeds = {secret, secret.strip()}
    forms = set(seeds)
    for seed in seeds:
        forms.add(base64.b64encode(seed.encode("utf-8", "surrogatepass")).decode("ascii").rstrip("="))
    for seed in seeds:
        for once in _escapes(seed):
            forms.add(once)
            forms.update(_escapes(once))
    return sorted((f for f in forms if len(f) >= MIN_SECRET_CHARS), key=lambda f: (-len(f), f))


def secret_fragments(secret: str) -> List[str]:
    """The runs of ``secret``'s characters that no escaping changes, long enough to redact alone."""
    return [run for run in _UNRESERVED.findall(secret) if len(run) >= MIN_FRAGMENT_CHARS]


def env_secrets(names: Iterable[str] = ()) -> List[str]:
    """The values of the environment variables ``names`` and of every variable whose name
    looks like a credential (:data:`SECRET_ENV_NAME`), read now."""
    wanted = {n for n in names if n}
    secrets = []
    for name, value in os.environ.items():
        if name in wanted and len(value.strip()) >= MIN_SECRET_CHARS:
            secrets.append(value)
        elif SECRET_ENV_NAME.search(name) and len(value.strip()) >= MIN_ENV_SECRET_CHARS:
            secrets.append(value)
    return sorted(set(secrets))


def redact_urls(text: str) -> str:
    """``text`` with credentials in URLs (userinfo, secret query parameters) and
    ``Bearer``/``Basic`` authorization values replaced by ``***``."""
    if "://" in text:
        text = _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    if "=" in text:
        text = _URL_QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)
    return _AUTH_VALUE.sub(lambda m: m.group(1) + MASK, text)


class Redactor:
    """Replaces the secrets it was given, in every form (see the module docstring)."""

    def __init__(self, secrets: Sequence[str] = ()):
        self.secrets = tuple(secrets)
        forms: List[str] = []
        for secret in self.secrets:
            if secret and len(secret.strip()) >= MIN_SECRET_CHARS:
                forms.extend(secret_forms(secret))
                forms.extend(secret_fragments(secret))
        forms = sorted(set(forms), key=lambda f: (-len(f), f))
        self._pattern: Optional[re.Pattern] = (
            re.compile("|".join(re.escape(f) for f in forms)) if forms else None)

    @classmethod
    def from_env(cls, names: Iterable[str] = ()) -> "Redactor":
        """A Redactor of the secrets in the environment now (:func:`env_secrets`)."""
        return cls(tuple(env_secrets(names)))

    def text(self, text: Optional[str]) -> Optional[str]:
        """``text`` with every secret, and every credential in a URL, replaced by ``***``."""
        if not text:
            return text
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return redact_urls(text)

    def value(self, value: Any) -> Any:
        """A JSON-like value (dicts, lists, strings; keys too) with every string redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
            return type(value)(self.value(v) for v in value)
        return value

    def record(self, record: Any) -> Any:
        """A record (NamedTuple) with every string field redacted."""
        changes = {}
        for name in record._fields:
            field = getattr(record, name)
            if isinstance(field, str):
                clean = self.text(field)
                if clean != field:
                    changes[name] = clean
        return record._replace(**changes) if changes else record


def redact(text: str, secret: Optional[str]) -> str:
    """``text`` with ``secret`` in every form, and URL credentials, replaced by ``***``."""
    return Redactor((secret,) if secret else ()).text(text) or text
