"""API tokens: creation (raw secret returned once) and lookup by sha256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Token
from service.schemas import Scope

TOKEN_PREFIX = "plt_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token row's id, its scope and (agents) the device it is bound to."""

    token_id: int
    scope: Scope
    device: str | None = None


def hash_token(raw: str) -> str:
    """sha256 hex of a raw token (the only form stored)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    session: Session, scope: Scope, device: str | None = None, label: str | None = None
) -> str:
    """Store a new token and return the raw secret (shown once, never stored).

    Raises:
        ValueError: an agent token without a device, or a device on a non-agent token.
    """
    if scope == "agent" and not device:
        raise ValueError("an agent token must be bound to a device (--device NAME)")
    if scope != "agent" and device:
        raise ValueError(f"only agent tokens are bound to a device (scope is {scope!r})")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(Token(token_hash=hash_token(raw), scope=scope, device=device, label=label))
    session.flush()
    return raw


def find_principal(session: Session, raw: str) -> Principal | None:
    """The principal of a raw token, or None when unknown or revoked."""
    row = session.scalar(select(Token).where(Token.token_hash == hash_token(raw)))
    if row is None or row.revoked:
        return None
    return Principal(token_id=row.id, scope=row.scope, device=row.device)  # type: ignore[arg-type]


def has_admin(session: Session) -> bool:
    """Whether any non-revoked admin token exists."""
    query = select(Token.id).where(Token.scope == "admin", Token.revoked.is_(False)).limit(1)
    return session.scalar(query) is not None


def revoke(session: Session, token_id: int) -> bool:
    """Revoke a token by id; returns whether it existed."""
    row = session.get(Token, token_id)
    if row is None:
        return False
    row.revoked = True
    return True


def add_hashed(session: Session, raw: str, scope: Scope, device: str | None, label: str) -> bool:
    """Store the hash of the given token unless it is stored already; True when added."""
    digest = hash_token(raw)
    if session.scalar(select(Token.id).where(Token.token_hash == digest)) is not None:
        return False
    session.add(Token(token_hash=digest, scope=scope, device=device, label=label))
    session.flush()
    return True
