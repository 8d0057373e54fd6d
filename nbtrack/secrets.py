"""Keep secrets out of everything a run stores (the one redaction module of the core).

Two kinds of secret are redacted, values only (code structure stays):

* a string literal assigned to, keyed by, or passed as a secret-looking *name*
  (``password = "..."``, ``{'api_key': "..."}``, ``login(password="...")``) becomes
  ``"<redacted>"``; names such as ``tokenizer_name`` or ``pad_token`` are not secret names;
* any text matching a known credential *format* (the :data:`PATTERNS` table: AWS, GitHub,
  GitLab, OpenAI, Slack, Stripe, Google, Hugging Face, JWT, PEM private keys, bearer headers,
  passwords in URLs), wherever it appears;
* the exact values of secret-named environment variables (and other values registered with
  :func:`add_known_secret`, e.g. a store URI password), wherever they appear.

:func:`redact_text` returns the redacted text and the :class:`Finding` list (pattern names,
never values) so the caller can say in the run what was redacted and where.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

REDACTED = "<redacted>"
MIN_KNOWN_LENGTH = 6
MAX_DEPTH = 100


@dataclass(frozen=True)
class Pattern:
    """One credential format: its name, the regex, and an example built at run time by tests."""
    name: str
    markers: tuple[str, ...]  # literal text one of which every match contains (a fast pre-check)
    regex: str
    example: tuple[str, ...]  # parts joined at run time so the source holds no credential


# Known token formats (formats learned from detect-secrets' plugin list and vendor docs).
PATTERNS: tuple[Pattern, ...] = (
    Pattern("pem_private_key", ('PRIVATE KEY',),
            r"-----BEGIN[A-Z ]{0,30} PRIVATE KEY( BLOCK)?-----[\s\S]*?-----END[A-Z ]{0,30} PRIVATE KEY( BLOCK)?-----"
            r"|-----BEGIN[A-Z ]{0,30} PRIVATE KEY( BLOCK)?-----[\s\S]{0,8000}",
            ("-----BEGIN RSA ", "PRIVATE KEY-----\nMIIEow", "IBAAKCAQEA7x\n-----END RSA ", "PRIVATE KEY-----")),
    Pattern("aws_access_key_id", ('AKIA', 'ASIA', 'ABIA', 'ACCA'),
            r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b", ("AKIA", "Q3EXAMPLE7Z4NB2Y")),
    Pattern("github_token", ('ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'),
            r"\b(?:gh[pousr]_[A-Za-z0-9]{12,}|github_pat_[A-Za-z0-9_]{40,})",
            ("gh", "p_", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8")),
    Pattern("gitlab_token", ('glpat-', 'gldt-', 'glrt-', 'glptt-', 'glcbt-', 'glsoat-', 'glffct-'),
            r"\bgl(?:pat|dt|rt|ptt|cbt|soat|ffct)-[A-Za-z0-9_\-]{20,}",
            ("gl", "pat-", "xY7zQ2wE9rT4uI1oP6aS")),
    Pattern("anthropic_key", ('sk-ant-',),
            r"\bsk-ant-[A-Za-z0-9_\-]{20,}", ("sk", "-ant-api03-", "Zx98Yw76Vu54Ts32Rq10")),
    Pattern("openai_key", ('sk-',),
            r"\bsk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z_\-]*\d)[A-Za-z0-9_\-]{12,}",
            ("sk", "-proj-", "Ab12Cd34Ef56Gh78Ij90Kl12Mn34")),
    Pattern("stripe_key", ('_live_', '_test_'),
            r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}",
            ("sk", "_live_", "4eC39HqLyjWDarjtT1zdp7dc")),
    Pattern("slack_token", ('xox',),
            r"\bxox[abposr]-[A-Za-z0-9\-]{10,}", ("xo", "xb-", "1234567890-abcdefghijKLMN")),
    Pattern("slack_webhook", ('hooks.slack.com',),
            r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,}",
            ("https://hooks.slack.com/", "services/T0000/B0000/", "XXXXXXXXXXXXXXXXXXXXXXXX")),
    Pattern("google_api_key", ('AIza',),
            r"\bAIza[0-9A-Za-z_\-]{35}", ("AI", "za", "SyD3kF9qLm2Xw8Rt5Yv1Bn7Jh4Gc6Pz0AeQ")),
    Pattern("huggingface_token", ('hf_',),
            r"\bhf_[A-Za-z0-9]{30,}", ("h", "f_", "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi")),
    Pattern("sendgrid_key", ('SG.',),
            r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}",
            ("SG", ".aBcDeFgHiJkLmNoPqRsT", ".uVwXyZ0123456789abcdEF")),
    Pattern("npm_token", ('npm_',),
            r"\bnpm_[A-Za-z0-9]{36}", ("np", "m_", "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789")),
    Pattern("pypi_token", ('pypi-AgE',),
            r"\bpypi-AgE[A-Za-z0-9_\-]{50,}",
            ("py", "pi-AgEIcHlwaS5vcmc", "CJDk5ZWEyZjc0LTZiNGQtNDkxMi05NmIxLWQ4YjM5MmE")),
    Pattern("twilio_key", ('SK',),
            r"\bSK[0-9a-f]{32}\b", ("S", "K", "0123456789abcdef0123456789abcdef")),
    Pattern("jwt", ('eyJ',),
            r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
            ("ey", "JhbGciOiJIUzI1NiJ9", ".ey", "JzdWIiOiIxMjM0NTY3ODkwIn0", ".dBjftJeZ4CVPmB92K27uhbUJU1p1r")),
    Pattern("bearer_header", ('Bearer ', 'bearer ', 'BEARER '),
            r"(?<=\b(?i:bearer) )(?=[A-Za-z_\-.=+/]*\d)[A-Za-z0-9_\-.=+/]{12,}",
            ("Authorization: Bearer ", "abcDEF123456ghiJKL")),
    Pattern("basic_auth_header", ('Basic ', 'basic ', 'BASIC '),
            r"(?<=\b(?i:basic) )(?=[A-Za-z+/]*\d)[A-Za-z0-9+/]{12,}={0,2}",
            ("Authorization: Basic ", "YWRtaW46aHVudGVyMjI=")),
    Pattern("url_password", ('://',),
            r"(?<=://)[^/\s:@'\"]*:[^/\s@'\"]+(?=@)",
            ("postgresql://admin:", "Tr0ub4dor", "@db:5432/x")),
    Pattern("azure_storage_key", ('AccountKey=',),
            r"(?<=AccountKey=)[A-Za-z0-9+/=]{40,}", ("AccountKey=", "a" * 20, "B+/" * 10)),
)

# A name that holds a secret: the secret word must end the name (``db_password``,
# ``OPENAI_API_KEY``, ``auth_token``) or be the whole name; token-ish words with an ordinary
# meaning in ML code (``pad_token``, ``tokenizer_name``, ``max_tokens``) are not secret names.
_SECRET_WORD = (r"(?:passw(?:or)?d|passwd|passphrase|pwd|secret(?:_?key)?|api_?key|apikey|access_?key(?:_?id)?"
                r"|private_?key|client_?secret|credentials?|auth(?:_?token)?|access_?token|refresh_?token"
                r"|bearer|session_?token|token|cookie|signing_?key|encryption_?key)")
_ORDINARY_TOKEN = re.compile(
    r"(?:^|_)(?:pad|unk|eos|bos|sep|cls|mask|start|end|special|additional|max|min|num|n|new|sos|stop|input|output"
    r"|first|last|next|prev|target|word|sub|image|img|vocab|decoder|encoder|text)_?tokens?$"
    r"|tokens?_(?:id|ids|type|length|len|count|limit)s?$|tokens$", re.I)
_SECRET_NAME = re.compile(rf"(?:{_SECRET_WORD})s?$", re.I)


def is_secret_name(name: str) -> bool:
    """Whether a variable, key, argument or environment-variable name holds a secret."""
    name = name.strip().strip("'\"")
    if not name or _ORDINARY_TOKEN.search(name):
        return False
    return bool(_SECRET_NAME.search(name))


@dataclass(frozen=True)
class Finding:
    """One redaction: which pattern matched (never the value)."""
    pattern: str


_COMPILED = tuple((p.name, p.markers, re.compile(p.regex)) for p in PATTERNS)
# name = "value", name: type = 'value', ["name"] = "value", {'name': "value"}, f(name="value")
_ASSIGNED = re.compile(
    r"(?<![\w\-])(?P<name>[A-Za-z_][\w\-]*)(?P<mid>['\"]?\s*\]?\s*(?::\s*[\w\[\], .]+?\s*)?(?:=(?!=)|:)\s*[rbuRBU]?)"
    r"(?P<q>['\"])(?P<value>[^'\"\n]+)(?P=q)")
_ENV_LINE = re.compile(r"(?m)^(?P<name>[+\- ]?(?:export\s+)?[A-Za-z_]\w*)(?P<mid>=)(?P<value>[^\s'\"#][^\s#]*)")
_POSITIONAL = re.compile(  # login('admin', 'hunter2'), connect(user, "pw"): second string to a login call
    r"(?P<head>\b(?:login|authenticate|auth|connect|set_password|HTTPBasicAuth|BasicAuth)\s*\(\s*"
    r"(?:[rbu]?['\"][^'\"\n]*['\"]|[A-Za-z_][\w.]*)\s*,\s*[rbu]?)(?P<q>['\"])(?P<value>[^'\"\n]+)(?P=q)", re.I)

_ENV_KEY = re.compile(r"(?:^|_)(?:KEY|PASS|PAT|DSN|CREDS?)$|SESSION_ID$|COOKIE")  # env-only names
# Lines worth the slower name-based patterns contain one of these words.
_HINT_WORDS = r"passw|pwd|secret|key|token|credential|auth|bearer|cookie|passphrase|login|connect"
_HINT = re.compile(_HINT_WORDS)  # searched in the lower-cased text (much faster than re.I)
_HINT_ANY_CASE = re.compile(_HINT_WORDS, re.I)
_known: set[str] = set()
_known_regex: re.Pattern[str] | None = None


def secret_env_values(environ: dict[str, str] | None = None) -> set[str]:
    """Values (6+ characters) of secret-named environment variables."""
    if environ is None:
        return set(_env_values())
    return _secret_env_values(environ)


_NOT_SECRET_ENV = frozenset({"PWD", "OLDPWD"})  # the shell's working directories, not passwords


def _secret_env_values(env: Any) -> set[str]:
    return {value for name, value in env.items()
            if value and len(value) >= MIN_KNOWN_LENGTH and name not in _NOT_SECRET_ENV
            and (is_secret_name(name) or _ENV_KEY.search(name))}


_env_cache: tuple[float, int, frozenset[str]] = (0.0, -1, frozenset())


def _env_values() -> frozenset[str]:
    """:func:`secret_env_values` of ``os.environ``, recomputed when a variable is added or
    removed, and at most every half second otherwise (this runs for every redacted text)."""
    global _env_cache
    now, size = time.monotonic(), len(os.environ)
    if size != _env_cache[1] or now - _env_cache[0] > 0.5:
        _env_cache = (now, size, frozenset(_secret_env_values(os.environ)))
    return _env_cache[2]


def add_known_secret(value: str | None) -> None:
    """Redact ``value`` (e.g. a password read from a store URI) wherever it appears from now on."""
    global _known_regex
    if value and len(value) >= MIN_KNOWN_LENGTH and value not in _known:
        _known.add(value)
        _known_regex = None


_known_key: frozenset[str] = frozenset()


def _known_pattern() -> re.Pattern[str] | None:
    """One compiled alternation of every known secret value (longest first)."""
    global _known_regex, _known_key
    env = _env_values()
    if not _known and not env:
        return None
    if _known_regex is None or _known_key != env | _known:
        _known_key = env | frozenset(_known)
        _known_regex = re.compile("|".join(re.escape(v) for v in sorted(_known_key, key=len, reverse=True)))
    return _known_regex


def _redact_formats(text: str, findings: list[Finding]) -> str:
    known = _known_pattern()
    if known is not None and known.search(text):
        text, n = known.subn(REDACTED, text)
        findings.extend([Finding("known_secret_value")] * n)
    for name, markers, regex in _COMPILED:
        if any(marker in text for marker in markers):
            text, n = regex.subn(REDACTED, text)
            findings.extend([Finding(name)] * n)
    return text


@lru_cache(maxsize=8192)
def _formats_cached(text: str, known_key: int) -> tuple[str, tuple[Finding, ...]]:
    findings: list[Finding] = [Finding("redacted_before_recording")] * text.count(REDACTED)
    return _redact_formats(text, findings), tuple(findings)


def redact_document(obj: Any, findings: list[Finding] | None = None) -> Any:
    """``obj`` (a JSON-able document) with known secret values and credential formats
    redacted in every string (keys and structure kept; cached per string, so re-recording a
    mostly unchanged snapshot is cheap). Returns ``obj`` itself when nothing was found."""
    _known_pattern()
    key = hash(_known_key)
    found: list[Finding] = [] if findings is None else findings

    def walk(value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:  # a cycle or absurd nesting: left for the store to reject
            return value
        if isinstance(value, str):
            if len(value) < MIN_KNOWN_LENGTH:
                return value
            out, hits = _formats_cached(value, key)
            if hits:
                found.extend(hits)
            return out
        if isinstance(value, dict):
            return {k: walk(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v, depth + 1) for v in value]
        return value

    before = len(found)
    result = walk(obj)
    return result if len(found) > before else obj


@lru_cache(maxsize=16384)
def _redact_line(line: str) -> tuple[str, tuple[Finding, ...]]:
    """The name-based patterns on one line holding a secret word (lines repeat: cached)."""
    if "'" not in line and '"' not in line:
        return line, ()
    findings: list[Finding] = []

    def assigned(match: re.Match[str]) -> str:
        if match["value"] == REDACTED or not is_secret_name(match["name"]):
            return match[0]
        findings.append(Finding("secret_name"))
        return f"{match['name']}{match['mid']}{match['q']}{REDACTED}{match['q']}"

    def positional(match: re.Match[str]) -> str:
        if match["value"] == REDACTED:
            return match[0]
        findings.append(Finding("login_password"))
        return f"{match['head']}{match['q']}{REDACTED}{match['q']}"

    line = _ASSIGNED.sub(assigned, line)
    if "(" in line:
        line = _POSITIONAL.sub(positional, line)
    return line, tuple(findings)


def redact_text(text: str, extra: set[str] | frozenset[str] = frozenset()) -> tuple[str, list[Finding]]:
    """``text`` with secrets replaced by ``<redacted>``, and what was found (pattern names only).

    ``extra`` holds further exact values to redact (e.g. secrets the user's namespace holds).
    """
    if not text:
        return text, []
    findings: list[Finding] = []
    for value in sorted((v for v in extra if v and len(v) >= MIN_KNOWN_LENGTH), key=len, reverse=True):
        if value in text:
            findings.append(Finding("known_secret_value"))
            text = text.replace(value, REDACTED)
    text = _redact_formats(text, findings)

    out, end = [], 0
    lower = text.lower()
    hints = _HINT.finditer(lower) if len(lower) == len(text) else _HINT_ANY_CASE.finditer(text)
    for hint in hints:
        if hint.start() < end:
            continue
        start = text.rfind("\n", 0, hint.start()) + 1
        stop = text.find("\n", hint.end())
        stop = len(text) if stop < 0 else stop
        line, found = _redact_line(text[start:stop])
        findings.extend(found)
        out.append(text[end:start])
        out.append(line)
        end = stop
    out.append(text[end:])
    text = "".join(out)

    def env_line(match: re.Match[str]) -> str:
        name = match["name"].lstrip("+- ").split()[-1]
        if match["value"] == REDACTED or not is_secret_name(name) or len(match["value"]) < 4:
            return match[0]
        findings.append(Finding("secret_name"))
        return f"{match['name']}{match['mid']}{REDACTED}"

    if "=" in text:
        text = _ENV_LINE.sub(env_line, text)

    return text, findings


def redact(text: str, extra: set[str] | frozenset[str] = frozenset()) -> str:
    """:func:`redact_text` without the findings."""
    return redact_text(text, extra)[0]


@lru_cache(maxsize=4096)
def _redact_cached(text: str, known_key: int) -> tuple[str, tuple[Finding, ...]]:
    out, findings = redact_text(text)
    return out, tuple(findings)


def redact_cached(text: str) -> tuple[str, list[Finding]]:
    """:func:`redact_text`, cached for texts recorded again and again (cell sources, snapshots)."""
    _known_pattern()
    out, findings = _redact_cached(text, hash(_known_key))
    return out, list(findings)


def redact_value(obj: Any, name: str | None = None,
                 findings: list[Finding] | None = None, _depth: int = 0) -> Any:
    """A copy of ``obj`` (params, dicts, lists) safe to record: values under secret names
    and secret-looking strings redacted; other values unchanged."""
    if isinstance(obj, str):
        if name is not None and obj and is_secret_name(name):
            if findings is not None:
                findings.append(Finding("secret_name"))
            return REDACTED
        out, found = redact_cached(obj)  # params and tags repeat from run to run
        if findings is not None:
            findings.extend(found)
        return out
    if _depth > MAX_DEPTH:
        return obj
    if isinstance(obj, dict):
        return {k: redact_value(v, str(k), findings, _depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact_value(v, name, findings, _depth + 1) for v in obj)
    return obj


def summarize(where: str, findings: list[Finding]) -> list[dict[str, Any]]:
    """Rows for a run's ``redactions`` document: where, which pattern, how many (never values)."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.pattern] = counts.get(finding.pattern, 0) + 1
    return [{"where": where, "pattern": p, "count": n} for p, n in sorted(counts.items())]


def looks_secret(text: str) -> bool:
    """Whether ``text`` holds anything :func:`redact_text` would redact."""
    return bool(redact_text(text)[1])


def redact_source(source: str) -> str:
    """:func:`redact` for code recorded again and again (cell sources, history), cached."""
    return redact_cached(source)[0]


def secret_values(namespace: dict[str, Any]) -> set[str]:
    """String values (6+ characters) a namespace (the user's) holds under secret names."""
    return {value for name, value in list(namespace.items())
            if isinstance(value, str) and len(value) >= MIN_KNOWN_LENGTH and not name.startswith("_")
            and is_secret_name(name)}


def redact_values(text: str, values: set[str]) -> str:
    """``text`` (e.g. what a cell printed) with the given exact values and any secret redacted."""
    return redact(text, values)


def redact_param(name: str, value: Any) -> Any:
    """A param value safe to record (see :func:`redact_value`)."""
    return redact_value(value, name)
