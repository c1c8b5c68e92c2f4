"""Settings, read from the environment (and a `.env` file) in one place."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from bot.errors import ConfigError

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
# A model reference ending in this runs the model with int8 weights in its Linear layers
# (FOOTNOTE_QUANTIZE=int8; bot/index/embedding.py).  Its vectors differ slightly from the full
# model's, so the suffix stays in the reference, which is the manifest's `model`: an index
# built one way is rebuilt, never queried, by the other (docs/performance.md 9.3).
INT8_SUFFIX = "+int8"
QUANTIZE_CHOICES = ("none", "int8")
TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,100}$")
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # The embedder's reference: FOOTNOTE_MODEL, with INT8_SUFFIX under FOOTNOTE_QUANTIZE=int8.
    model: str = DEFAULT_MODEL
    telegram_token: str | None = field(default=None, repr=False)
    telegram_base_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    admin_ids: frozenset[int] = frozenset()
    user_rate_limit: int = 20
    user_rate_window: float = 60.0
    # Read documents behind links that lead outside the corpus folder (off: see corpus/files.py).
    follow_links: bool = False
    # The web reader (bot/web/): where the public sees it (links in Telegram), whether it is
    # on, and where `footnote web` / polling mode serve it.
    public_url: str | None = None
    web_reader: bool = True
    web_listen: str = "127.0.0.1"
    web_port: int | None = None

    @property
    def reader_url(self) -> str | None:
        """The public root of the reader that links may point to, or None (no links)."""
        return self.public_url if self.web_reader else None

    # Threads for torch and FAISS while serving (bot/index/threads.py; 0 = every core).
    serving_threads: int = 1
    # Logging of the serving commands, and whether an unexpected error shows its traceback.
    log_level: str = "INFO"
    debug: bool = False

    def require_token(self) -> str:
        if not self.telegram_token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set (put it in the environment or in .env)"
            )
        if not TOKEN_PATTERN.match(self.telegram_token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is malformed: expected digits, a colon and the secret part"
            )
        return self.telegram_token

    def with_overrides(self, **values: object) -> Settings:
        """These settings with each value that is not None in place of the one it names.

        For command-line options over the environment: an option not given is None and
        changes nothing.  A name that is no setting is an error that names it.
        """
        names = {f.name for f in fields(self)}
        for name in values:
            if name not in names:
                raise TypeError(f"Settings has no setting named {name!r}")
        changes: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
        return replace(self, **changes) if changes else self


def split_variant(model: str) -> tuple[str, bool]:
    """A model reference without its variant suffix, and whether it asks for int8."""
    if model.endswith(INT8_SUFFIX):
        return model[: -len(INT8_SUFFIX)], True
    return model, False


def with_variant(model: str, int8: bool) -> str:
    """The reference of `model` run at full precision, or with int8 Linear layers."""
    base, _ = split_variant(model)
    return base + INT8_SUFFIX if int8 else base


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; comments, blank lines and `export ` prefixes allowed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _number(env: Mapping[str, str], key: str, default: N, parse: Callable[[str], N]) -> N:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except ValueError:
        kind = "a whole number" if parse is int else "a number"
        raise ConfigError(f"{key} must be {kind}, got {raw!r}") from None


def debug_requested(env: Mapping[str, str]) -> bool:
    """FOOTNOTE_DEBUG as `load_settings` reads it, for when settings could not be loaded
    (a value that is no flag then means off)."""
    try:
        return _flag(env, "FOOTNOTE_DEBUG")
    except ConfigError:
        return False


def _flag(env: Mapping[str, str], key: str) -> bool:
    raw = env.get(key, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{key} must be 1 or 0 (true or false), got {raw!r}")


def _secret(env: Mapping[str, str], key: str) -> str | None:
    """A secret from KEY, or read from the file KEY_FILE names (so it never has to appear on
    a command line, where `ps` shows it to every user of the machine)."""
    if env.get(key):
        return env[key]
    path = env.get(f"{key}_FILE")
    if not path:
        return None
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"{key}_FILE names {path!r}, which cannot be read ({exc.strerror})"
        ) from None
    if not value:
        raise ConfigError(f"{key}_FILE names {path!r}, which is empty")
    return value


def _public_url(raw: str) -> str | None:
    """FOOTNOTE_PUBLIC_URL: an http(s) origin the reader is served at, without a path (its
    pages link to /p/..., /d/... from the root)."""
    raw = raw.strip()
    if not raw:
        return None
    parsed = urlsplit(raw)
    try:
        parsed.port  # noqa: B018 -- raises on a port that is no number
    except ValueError:
        parsed = urlsplit("")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(
            f"FOOTNOTE_PUBLIC_URL must be an http(s) URL such as https://footnote.example.org, "
            f"got {raw!r}"
        )
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment or parsed.username:
        raise ConfigError(
            "FOOTNOTE_PUBLIC_URL must be the reader's root (scheme and host, no path, query "
            f"or credentials), got {raw!r}"
        )
    return f"{parsed.scheme}://{parsed.netloc}"


def _port(env: Mapping[str, str], key: str) -> int | None:
    if not env.get(key):
        return None
    port = _number(env, key, 0, int)
    if not 0 <= port <= 65535:
        raise ConfigError(f"{key} must be a port number (0-65535), got {port}")
    return port


def _admin_ids(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in re.split(r"[,\s]+", raw.strip()):
        if not part:
            continue
        try:
            ids.add(int(part))
        except ValueError:
            raise ConfigError(
                f"FOOTNOTE_ADMIN_IDS must list numeric Telegram user ids, got {part!r}"
            ) from None
    return frozenset(ids)


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Settings from `.env` overlaid by the process environment (the environment wins)."""
    env: dict[str, str] = read_dotenv(dotenv) if dotenv is not None else {}
    env.update(os.environ if environ is None else environ)
    return Settings(
        corpus_dir=Path(env.get("FOOTNOTE_CORPUS") or "corpus"),
        index_dir=Path(env.get("FOOTNOTE_INDEX") or "index"),
        model=with_variant(env.get("FOOTNOTE_MODEL") or DEFAULT_MODEL, _int8(env)),
        telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
        telegram_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
        webhook_listen=env.get("FOOTNOTE_WEBHOOK_LISTEN") or "0.0.0.0",
        webhook_port=_number(env, "FOOTNOTE_WEBHOOK_PORT", 8443, int),
        webhook_secret=_secret(env, "FOOTNOTE_WEBHOOK_SECRET"),
        admin_ids=_admin_ids(env.get("FOOTNOTE_ADMIN_IDS", "")),
        user_rate_limit=_number(env, "FOOTNOTE_RATE_LIMIT", 20, int),
        user_rate_window=_number(env, "FOOTNOTE_RATE_WINDOW", 60.0, float),
        follow_links=_flag(env, "FOOTNOTE_FOLLOW_LINKS"),
        public_url=_public_url(env.get("FOOTNOTE_PUBLIC_URL", "")),
        web_reader=not env.get("FOOTNOTE_WEB_READER") or _flag(env, "FOOTNOTE_WEB_READER"),
        web_listen=env.get("FOOTNOTE_WEB_LISTEN") or "127.0.0.1",
        web_port=_port(env, "FOOTNOTE_WEB_PORT"),
        serving_threads=_threads(env, "FOOTNOTE_TORCH_THREADS", 1),
        log_level=_log_level(env, "FOOTNOTE_LOG_LEVEL"),
        debug=_flag(env, "FOOTNOTE_DEBUG"),
    )


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(env: Mapping[str, str], key: str) -> str:
    level = (env.get(key) or "INFO").strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{key} must be one of {', '.join(LOG_LEVELS)}, got {env.get(key)!r}")
    return level


def _int8(env: Mapping[str, str]) -> bool:
    quantize = (env.get("FOOTNOTE_QUANTIZE") or "none").strip().lower()
    if quantize not in QUANTIZE_CHOICES:
        raise ConfigError(
            f"FOOTNOTE_QUANTIZE must be one of {', '.join(QUANTIZE_CHOICES)}, got {quantize!r}"
        )
    return quantize == "int8"


def _threads(env: Mapping[str, str], key: str, default: int) -> int:
    threads = _number(env, key, default, int)
    if threads < 0:
        raise ConfigError(f"{key} must be 0 (every core) or a number of threads, got {threads}")
    return threads
