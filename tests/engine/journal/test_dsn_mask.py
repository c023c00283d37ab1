"""The DSN mask hides the whole password, however awkward (no server needed)."""

from __future__ import annotations

import pytest

from papertape.engine.journal.postgres import mask_dsn

AWKWARD = [
    "ss-Sekr3t@Pw-4711",
    "p@ss@word",
    "a:b:c",
    "sl/ash",
    "pct%40enc",
    "ünï€ødé",
    "q?x=1#frag",
    "@",
    "s p a c e",
]


@pytest.mark.parametrize("password", AWKWARD)
def test_a_url_password_is_masked_whole(password: str) -> None:
    dsn = f"postgresql://postgres:{password}@127.0.0.1:5432/papertape"
    masked = mask_dsn(dsn)
    assert masked == "postgresql://postgres:***@127.0.0.1:5432/papertape"
    for piece in password.replace("@", " ").replace(":", " ").split():
        if len(piece) > 1:
            assert piece not in masked


@pytest.mark.parametrize("password", AWKWARD)
def test_a_password_in_the_query_or_keywords_is_masked(password: str) -> None:
    masked = mask_dsn(f"postgresql://u@h/db?sslmode=require&password={password}")
    assert masked.startswith("postgresql://u@h/db?sslmode=require&password=***")
    quoted = password.replace("'", "\\'")
    assert mask_dsn(f"host=h user=u password='{quoted}' dbname=db") == (
        "host=h user=u password=*** dbname=db"
    )


def test_a_dsn_without_password_is_unchanged() -> None:
    for dsn in ("postgresql://u@h/db", "postgresql://h/db", "postgresql:///db?host=/tmp"):
        assert mask_dsn(dsn) == dsn


def test_a_user_with_a_colon_free_netloc_and_ipv6_host() -> None:
    assert mask_dsn("postgres://u:pw@[::1]:5432/db") == "postgres://u:***@[::1]:5432/db"
    assert (
        mask_dsn("postgresql://u:pw@h1:5432,h2:5433/db") == "postgresql://u:***@h1:5432,h2:5433/db"
    )
