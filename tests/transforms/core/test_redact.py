"""The secret suite (#17 class 4): an API key never reaches a log line, a dead letter, a
rejection or a manifest, in any form: raw, stripped of its trailing newline, escaped
(repr, bytes repr, JSON, twice over), URL-encoded; credentials inside URLs (userinfo,
``api_key``/``token`` query parameters) and Bearer tokens neither.

The last test is the landed leak, end to end: a key with odd characters in the
environment, a ``base_url`` carrying it, a server that echoes it back in its 401
answer, and every output byte of the run (each file under the output folder, Parquet
decoded, and the captured stdout/stderr, Beam's lines included) searched for it in
every form."""
from __future__ import annotations

import base64
import glob
import json
import logging
import os
import urllib.parse

import pyarrow.parquet as pq
import pytest

from pipelines import cli, logs
from schemas.records import DeadLetter
from tests.loopback import JsonHandler, serving
from transforms.core.redact import MASK, Redactor, env_secrets, redact, redact_urls, secret_forms

#: A key with a newline, a quote, a backslash, non-ASCII, '%' and '/'.
ODD_KEY = 'sk-Odd"q\\b/s%25-é-7f3a9c0d1e2b4a68\n'
#: One an HTTP client can send (ASCII, no newline), with the other odd characters.
SENDABLE_KEY = 'sk-Snd"q\\b/s%25-9e8d7c6b5a493827'
#: The landed leak: a key read from a file, its newline kept; the HTTP library's error
#: quotes the header escaped (``b'Bearer sk-…\\n'``), which exact matching missed.
NEWLINE_KEY = "sk-proj-5c4b3a29180716f5\n"


def forms(key: str) -> list:
    """Every form of ``key`` that must never be written (and its core)."""
    out = set()
    for k in (key, key.strip()):
        out |= {k, repr(k)[1:-1], repr(k.encode("utf-8"))[2:-1], json.dumps(k)[1:-1],
                json.dumps(k, ensure_ascii=False)[1:-1], json.dumps(json.dumps(k))[1:-1],
                urllib.parse.quote(k, safe=""), urllib.parse.quote(k), urllib.parse.quote_plus(k),
                k.encode("unicode_escape").decode(), base64.b64encode(k.encode()).decode().rstrip("=")}
    out.add(key.strip().rsplit("-", 1)[1])  # the long run no escaping changes
    return sorted(out)


def leaks(text: str, key: str) -> list:
    return [f for f in forms(key) if f in text]


@pytest.mark.parametrize("wrap", [
    pytest.param(lambda k: k, id="raw"),
    pytest.param(lambda k: repr(k), id="repr"),
    pytest.param(lambda k: repr(k.encode("utf-8")), id="bytes-repr-header-error"),
    pytest.param(lambda k: json.dumps(k), id="json-ascii"),
    pytest.param(lambda k: json.dumps(k, ensure_ascii=False), id="json-unicode"),
    pytest.param(lambda k: json.dumps({"error": json.dumps({"detail": k})}), id="json-twice"),
    pytest.param(lambda k: urllib.parse.quote(k, safe=""), id="url-encoded"),
    pytest.param(lambda k: urllib.parse.quote_plus(k), id="url-plus"),
    pytest.param(lambda k: k.strip(), id="stripped"),
    pytest.param(lambda k: k.encode("unicode_escape").decode(), id="unicode-escape"),
])
@pytest.mark.parametrize("key", [ODD_KEY, SENDABLE_KEY], ids=["odd", "sendable"])
def test_every_form_of_the_key_is_redacted(wrap, key):
    text = f"LocalProtocolError: Illegal header value {wrap(key)} (while sending)"
    clean = redact(text, key)
    assert not leaks(clean, key), clean
    assert MASK in clean and clean.startswith("LocalProtocolError: Illegal header value")


@pytest.mark.parametrize("text, expected", [
    ("ConnectError: http://user:s3cr%2Ft@host:8000/v1 refused", "ConnectError: http://***@host:8000/v1 refused"),
    ("GET https://h/v1?api_key=abc%2F123&model=x", "GET https://h/v1?api_key=***&model=x"),
    ("https://h/v1?x=1&access_token=tok123#frag", "https://h/v1?x=1&access_token=***#frag"),
    ("headers: Authorization: Bearer sk-abcdefgh12345", "headers: Authorization: Bearer ***"),
    ("a basic idea; the bearer of news; http://host/path?model=x", "a basic idea; the bearer of news; "
                                                                  "http://host/path?model=x"),
])
def test_credentials_in_urls_and_bearer_tokens(text, expected):
    assert redact_urls(text) == expected


def test_short_or_missing_secrets_redact_nothing_but_urls():
    assert Redactor(("abc",)).text("abc and abcdef") == "abc and abcdef"
    assert redact("nothing here", None) == "nothing here"
    assert {"sk-0123456789", "sk-0123456789\\n"} <= set(secret_forms("sk-0123456789\n"))


def test_env_secrets_by_name_and_by_the_config(monkeypatch):
    monkeypatch.setenv("RC_T_API_KEY", "value-0123456789")
    monkeypatch.setenv("RC_T_PLAIN", "other-0123456789")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")  # a flag, not a key
    assert "value-0123456789" in env_secrets()
    assert "other-0123456789" not in env_secrets()
    assert "other-0123456789" in env_secrets(["RC_T_PLAIN"])
    assert "false" not in env_secrets()


def test_records_and_json_values_are_redacted():
    redactor = Redactor((ODD_KEY,))
    letter = DeadLetter(record_id="r", stage="sample", step="generate", file=None, line=None, field=None,
                        error=f"HTTP 401: bad key {ODD_KEY!r}", payload=json.dumps({"k": ODD_KEY}),
                        config_hash="h", schema_version="1")
    clean = redactor.record(letter)
    assert not leaks(clean.error + clean.payload, ODD_KEY) and clean.record_id == "r"
    value = redactor.value({"base_url": f"http://u:{urllib.parse.quote(ODD_KEY, safe='')}@h/v1", "n": 2})
    assert value == {"base_url": "http://***@h/v1", "n": 2}


def test_log_lines_and_tracebacks_are_redacted(monkeypatch, capsys):
    monkeypatch.setenv("RC_T_KEY", ODD_KEY)
    logs.setup(logging.INFO)
    logs.protect(["RC_T_KEY"])
    log = logging.getLogger("transforms.test_redact")
    log.warning("request failed: %r", ODD_KEY)
    try:
        raise RuntimeError(f"Illegal header value {ODD_KEY.encode()!r}")
    except RuntimeError:
        log.exception("crashed")
    logging.getLogger("apache_beam.runners").error("worker said %s", json.dumps(ODD_KEY))
    err = capsys.readouterr().err
    assert "request failed" in err and "crashed" in err and "RuntimeError" in err
    assert not leaks(err, ODD_KEY), err
    assert logs.scrub(f"error: {ODD_KEY!r}") == f"error: '{MASK}'"


# -- end to end -------------------------------------------------------------------------------


class _Echo(JsonHandler):
    """Answers every request 401 with a body that echoes the Authorization header it got
    (and the request's path, with its query), as some servers do."""

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization") or ""
        self.send_json(401, {"error": {"message": f"invalid credentials {auth} for {self.path}",
                                     "raw": urllib.parse.unquote(self.path)}})


@pytest.fixture
def echo_server():
    with serving(_Echo) as server:
        yield server


def _output_text(folder) -> str:
    """Every byte under ``folder``: raw, and each Parquet file's rows decoded."""
    parts = []
    for path in sorted(glob.glob(os.path.join(str(folder), "**", "*"), recursive=True)
                       + glob.glob(os.path.join(str(folder), "**", ".*"), recursive=True)):
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as fh:
            parts.append(fh.read().decode("utf-8", errors="replace"))
        if path.endswith(".parquet"):
            parts.append(json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str))
            parts.append(json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=True, default=str))
    return "\n".join(parts)


def test_exact_matching_missed_the_escaped_newline_key():
    """The landed failure: the old redaction replaced the key as it is, so the escaped
    form in the HTTP library's error text went through."""
    error = f"LocalProtocolError: Illegal header value {('Bearer ' + NEWLINE_KEY).encode()!r}"
    assert error.replace(NEWLINE_KEY, "***") == error  # what exact matching did: nothing
    assert "5c4b3a29180716f5" not in redact(error, NEWLINE_KEY)


@pytest.mark.parametrize("key", [ODD_KEY, SENDABLE_KEY, NEWLINE_KEY], ids=["odd", "sendable", "newline"])
def test_a_sample_run_writes_the_key_nowhere(key, echo_server, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("RC_ODD_TEACHER", key)  # a name that doesn't look like a key: the config names it
    quoted = urllib.parse.quote(key.strip(), safe="")
    # with userinfo the client sends it as Basic auth instead of the key's Bearer header: the
    # newline key goes without, so its header is built, refused and quoted escaped (the landed leak)
    userinfo = "" if key == NEWLINE_KEY else f"teacher:{quoted}@"
    base_url = f"http://{userinfo}127.0.0.1:{echo_server.server_address[1]}/v1?api_key={quoted}"
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({
        "seed": 5, "max_dead_letter_share": 1.0,
        "sources": [{"name": "arithmetic", "generator": "arithmetic", "count": 3, "difficulty": [1]}],
        "sample": {"backend": "openai", "base_url": base_url, "model": "x", "n": 1, "max_tokens": 8,
                   "max_retries": 0, "timeout_s": 10, "api_key_env": "RC_ODD_TEACHER"},
    }))
    out = tmp_path / "out"
    code = cli.main(["sample", "--config", str(config), "--output", str(out), "--runner=FnApiRunner"])
    captured = capfd.readouterr()
    assert code == 0, captured.err[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["accounting"]["sample"]["dead"] == 3  # every request failed, and was kept as a dead letter
    assert manifest["config"]["sample"]["base_url"].startswith("http://***@127.0.0.1:" if userinfo else "http://127")
    assert "api_key=***" in manifest["config"]["sample"]["base_url"]
    text = _output_text(out) + captured.out + captured.err
    assert not leaks(text, key), leaks(text, key)
    basic = base64.b64encode(f"teacher:{key.strip()}".encode()).decode()  # sent as Basic auth, echoed
    assert basic not in text and basic.rstrip("=")[:24] not in text
