"""No password of a store URL is ever printed: masking, reprs, errors."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from evidence_synth import open_review
from evidence_synth.cli import cli
from evidence_synth.errors import StoreError
from evidence_synth.store.urls import mask_url, redact

HOST, PORT, DB = "db.example.org", 5432, "review_2026"


@pytest.mark.parametrize(("url", "masked"), [
    ("postgresql+psycopg://ann:Secret@host/db", "postgresql+psycopg://ann:***@host/db"),
    ("postgresql+psycopg://:Secret@host/db", "postgresql+psycopg://:***@host/db"),
    ("postgresql+psycopg://ann:p@ss@word@host:5432/db",
     "postgresql+psycopg://ann:***@host:5432/db"),
    ("postgresql+psycopg://ann:p%40ss%3Aw%2Fd@host/db", "postgresql+psycopg://ann:***@host/db"),
    ("postgresql+psycopg://ann:a/b?c#d@host/db", "postgresql+psycopg://ann:***@host/db"),
    ("postgresql+psycopg://ann@host/db?password=Secret&sslmode=require",
     "postgresql+psycopg://ann@host/db?password=***&sslmode=require"),
    ("postgresql+psycopg://ann@host/db?sslmode=require&sslpassword=Secret",
     "postgresql+psycopg://ann@host/db?sslmode=require&sslpassword=***"),
    ("postgresql+psycopg://host/db?password=Sec&ret&sslmode=require",
     "postgresql+psycopg://host/db?password=***&sslmode=require"),
    ("postgresql+psycopg://ann@host/db", "postgresql+psycopg://ann@host/db"),
    ("postgresql+psycopg://ann@host:5x32/db", "postgresql+psycopg://ann@host:5x32/db"),
    ("postgresql+psycopg:///db?host=/run/postgresql", "postgresql+psycopg:///db?host=/run/postgresql"),
    ("sqlite:///reviews/a@b:c.db", "sqlite:///reviews/a@b:c.db"),
    ("sqlite+pysqlcipher://:passphrase@/review.db", "sqlite+pysqlcipher://:***@/review.db"),
    ("reviews/review.db", "reviews/review.db"),
])
def test_every_url_shape_is_masked(url, masked):
    assert mask_url(url) == masked


_PASSWORDS = st.text(min_size=4, max_size=40).filter(lambda p: "\x00" not in p)
_USERS = st.from_regex(r"\A[a-z_]{0,8}\Z")


@settings(max_examples=400, deadline=None)
@given(password=_PASSWORDS, user=_USERS)
def test_a_password_in_the_user_info_never_shows(password, user):
    expected = f"postgresql+psycopg://{user}:***@{HOST}:{PORT}/{DB}"
    assume(password not in expected)
    for typed in (password, quote(password, safe="")):
        url = f"postgresql+psycopg://{user}:{typed}@{HOST}:{PORT}/{DB}"
        masked = mask_url(url)
        assert password not in masked
        assert typed not in masked
        assert masked == expected
        message = redact(f"could not connect to {url}: bad password {typed!r}", url)
        assert password not in message and typed not in message


@settings(max_examples=300, deadline=None)
@given(password=_PASSWORDS, key=st.sampled_from(["password", "sslpassword", "PASSWORD"]))
def test_a_password_in_the_query_never_shows(password, key):
    expected = f"postgresql+psycopg://ann@{HOST}:{PORT}/{DB}?sslmode=require&{key}=***"
    assume(password not in expected)
    encoded = quote(password, safe="")
    url = f"postgresql+psycopg://ann@{HOST}:{PORT}/{DB}?sslmode=require&{key}={encoded}"
    masked = mask_url(url)
    assert password not in masked and encoded not in masked
    assert masked == expected


@settings(max_examples=200, deadline=None)
@given(password=_PASSWORDS.filter(lambda p: "@" not in p))
def test_sqlalchemy_reads_the_masked_url_as_the_same_place(password):
    """Where SQLAlchemy parses the URL, the masked one names the same user, host, db."""
    url = f"postgresql+psycopg://ann:{quote(password, safe='')}@{HOST}:{PORT}/{DB}"
    original, masked = make_url(url), make_url(mask_url(url))
    assert (masked.username, masked.host, masked.port, masked.database) == (
        original.username, original.host, original.port, original.database)
    assert masked.password == "***"


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://:S3cret-pw@127.0.0.1:1/review",
    "postgresql+psycopg://ann:S3cret@pw@127.0.0.1:1/review",
    "postgresql+psycopg://ann@127.0.0.1:1/review?password=S3cret-pw",
])
def test_errors_and_cli_output_never_show_the_password(url):
    secret = "S3cret-pw" if "S3cret-pw" in url else "S3cret@pw"
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError) as info:
        open_review(url, create=False)
    assert "127.0.0.1:1/review" in str(info.value)
    for part in (secret, *secret.split("@")[1:]):
        assert part not in str(info.value)
    result = CliRunner().invoke(cli, ["status", url])
    assert result.exit_code == 1
    assert "127.0.0.1:1/review" in result.output
    assert "S3cret" not in result.output and "pw@" not in result.output


def test_repr_masks_the_password(tmp_path):
    from evidence_synth.store.review import Review

    review = Review(f"sqlite:///{tmp_path / 'r.db'}")
    review.url = "postgresql+psycopg://:Secret@host/db"  # what repr would print
    assert repr(review) == "Review('postgresql+psycopg://:***@host/db')"
    review.close()
