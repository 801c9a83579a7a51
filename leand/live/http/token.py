"""The HTTP API's bearer token: from the environment, a systemd credential, or generated once into the state
directory (mode 0600). Whatever its source, it is registered as a secret, so no log line can carry it."""

from __future__ import annotations

import os
import secrets as _random
from pathlib import Path

from leand.live.config import ConfigError, HttpConfig
from leand.live.secrets import SecretError, register, secret

TOKEN_FILE = "http-token"


class TokenError(ConfigError):
    pass


def load_token(cfg: HttpConfig, state_dir: Path) -> tuple[str, str, bool]:
    """Returns (token, where it came from, whether it was generated just now)."""
    try:
        tok = secret(env=cfg.token_env or None, credential=cfg.token_credential or None)
        src = f"${cfg.token_env}" if os.environ.get(cfg.token_env or "\0") == tok else \
            f"credential {cfg.token_credential!r}"
        return tok, src, False
    except SecretError:
        pass
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / TOKEN_FILE
    generated = False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(_random.token_urlsafe(32) + "\n")
        generated = True
    st = path.stat()
    if st.st_mode & 0o077:
        raise TokenError(f"{path}: the HTTP token file must be readable by its owner only (chmod 600 {path})")
    tok = path.read_text().strip()
    if len(tok) < 16:
        raise TokenError(f"{path}: the HTTP token is shorter than 16 characters; delete the file to get a new one")
    register(tok)
    return tok, str(path), generated
