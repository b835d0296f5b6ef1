"""Reviewer identities on a PostgreSQL review store: roles, grants and checks.

After :func:`grant_reviewers`, every person connects under their own login role and the
database itself makes sure that

- a decision, pair verdict or extraction row is written under the connected identity
  (``reviewer``/``extractor`` must equal ``session_user``);
- adjudication events come only from members of ``es_adjudicator`` (or ``es_admin``);
- nobody updates or deletes an event (the append-only triggers of the schema), and an
  extraction row is updated only by the person who extracted it;
- members of ``es_admin`` (and superusers) may write for others: rule and model decisions
  of the automation tools, and imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..errors import StoreError
from . import schema
from .review import Review

READER, REVIEWER, ADJUDICATOR, ADMIN = "es_reader", "es_reviewer", "es_adjudicator", "es_admin"
GROUPS = (READER, REVIEWER, ADJUDICATOR, ADMIN)
#: A login role name: lower case letters, digits and ``_``, at most 63 bytes (\Z, not $,
#: which would accept a trailing newline).
_IDENTIFIER = re.compile(r"\A[a-z_][a-z0-9_]{0,62}\Z")
#: Names PostgreSQL reserves for roles, or that name the current user in SQL.
_RESERVED_ROLES = {"public", "none", "current_user", "session_user", "current_role", "user",
                   "system_user"}

_IDENTITY_FUNCTION = """
CREATE OR REPLACE FUNCTION es_check_identity() RETURNS trigger AS $$
DECLARE
    row_new jsonb := to_jsonb(NEW);
    who text := COALESCE(row_new ->> 'reviewer', row_new ->> 'extractor');
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
       OR pg_has_role(session_user, 'es_admin', 'MEMBER') THEN
        RETURN NEW;
    END IF;
    IF who IS DISTINCT FROM session_user THEN
        RAISE EXCEPTION '%: % may only write under their own identity, not as %',
            TG_TABLE_NAME, session_user, who USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF row_new ->> 'kind' = 'adjudication'
       AND NOT pg_has_role(session_user, 'es_adjudicator', 'MEMBER') THEN
        RAISE EXCEPTION '%: % is not an adjudicator (role es_adjudicator)',
            TG_TABLE_NAME, session_user USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF to_jsonb(OLD) ->> 'extractor' IS DISTINCT FROM session_user THEN
            RAISE EXCEPTION '%: row % was extracted by %, not %', TG_TABLE_NAME,
                to_jsonb(OLD) ->> 'row_id', to_jsonb(OLD) ->> 'extractor', session_user
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""

_IDENTITY_TRIGGERS = {
    "decision_events": "BEFORE INSERT",
    "pair_decisions": "BEFORE INSERT",
    "extraction_rows": "BEFORE INSERT OR UPDATE",
}


@dataclass
class AccessReport:
    """What :func:`grant_reviewers` created or granted.

    Attributes
    ----------
    created : list of str
        Roles created by this call.
    granted : list of tuple
        ``(person, group role)`` memberships granted.
    """

    created: list[str] = field(default_factory=list)
    granted: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line per change."""
        lines = [f"created role {r}" for r in self.created]
        lines += [f"granted {g} to {p}" for p, g in self.granted]
        return "\n".join(lines) or "nothing to change"


def grant_reviewers(
    review: Review,
    *,
    reviewers: Iterable[str] = (),
    adjudicators: Iterable[str] = (),
    admins: Iterable[str] = (),
    readers: Iterable[str] = (),
) -> AccessReport:
    """Create the group roles, the people's login roles, grants and identity checks.

    Run it as a PostgreSQL superuser (or the database owner with CREATEROLE) on a store
    created with :func:`~evidence_synth.store.open_review`. It can be run again to add
    people; existing roles are kept. Passwords are set by the database administrator
    (``ALTER ROLE ann PASSWORD '...'``) or by the site's authentication (peer, LDAP, ...).

    Parameters
    ----------
    review : Review
        A store on PostgreSQL.
    reviewers, adjudicators, admins, readers : iterable of str
        Login role names (lower case letters, digits, ``_``). Adjudicators and admins are
        also reviewers.

    Returns
    -------
    AccessReport
    """
    if review.engine.dialect.name != "postgresql":
        raise StoreError(f"{review!r}: roles and grants need a PostgreSQL store")
    people = {
        READER: list(readers),
        REVIEWER: list(reviewers) + list(adjudicators) + list(admins),
        ADJUDICATOR: list(adjudicators) + list(admins),
        ADMIN: list(admins),
    }
    named = sorted({p for names in people.values() for p in names})
    problems = [f"{p!r}: {why}" for p in named if (why := _bad_role_name(p))]
    if problems:
        raise StoreError("role names refused: " + "; ".join(problems))
    report = AccessReport()
    with review._begin() as conn:
        keywords = _reserved_keywords(conn)
        reserved = [f"{p!r}: an SQL reserved word" for p in named if p in keywords]
        if reserved:
            raise StoreError("role names refused: " + "; ".join(reserved))
        existing = set(conn.execute(sa.text("SELECT rolname FROM pg_roles")).scalars())
        for group in GROUPS:
            if group not in existing:
                _execute(conn, "CREATE ROLE {} NOLOGIN", group)
                report.created.append(group)
        for group, names in people.items():
            for name in names:
                if name not in existing and name not in report.created:
                    _execute(conn, "CREATE ROLE {} LOGIN", name)
                    report.created.append(name)
                _execute(conn, "GRANT {} TO {}", group, name)
                report.granted.append((name, group))
        _execute(conn, "GRANT CONNECT ON DATABASE {} TO {}, {}, {}",
                 conn.engine.url.database or "", READER, REVIEWER, ADMIN)
        for statement in _GRANTS:
            conn.exec_driver_sql(statement)
        conn.execute(sa.text(_IDENTITY_FUNCTION))
        for table, timing in _IDENTITY_TRIGGERS.items():
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_identity ON {table}")
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_identity {timing} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION es_check_identity()"
            )
    return report


def _bad_role_name(name: str) -> str | None:
    """Why ``name`` cannot be a person's login role, or ``None``."""
    if not _IDENTIFIER.match(name):
        return ("expected lower case letters, digits and _ (at most 63, not starting with a "
                "digit)")
    if name.startswith("pg_"):
        return "names starting with pg_ are reserved for PostgreSQL's own roles"
    if name in _RESERVED_ROLES:
        return "reserved by PostgreSQL (it names a special role or the current user)"
    if name in GROUPS:
        return "one of evidence_synth's group roles, not a person"
    return None


def _reserved_keywords(conn: sa.Connection) -> set[str]:
    """The server's reserved SQL key words (categories R and T of pg_get_keywords)."""
    query = "SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T')"
    return set(conn.exec_driver_sql(query).scalars())


def _execute(conn: sa.Connection, template: str, *names: str) -> None:
    """Run ``template`` with each ``{}`` replaced by an identifier, quoted by the driver
    (psycopg's ``sql.SQL`` and ``sql.Identifier``; the dialect's quoting otherwise)."""
    if conn.dialect.driver == "psycopg":
        from psycopg import sql

        composed = sql.SQL(template).format(*map(sql.Identifier, names))
        statement = composed.as_string(conn.connection.dbapi_connection)
    else:
        quote = conn.dialect.identifier_preparer.quote_identifier
        statement = template.format(*map(quote, names))
    conn.exec_driver_sql(statement)


_PROTECTED = ", ".join(schema.APPEND_ONLY + schema.WRITE_ONCE)
#: Grants to the group roles (fixed names). Nobody but the owner may update, delete or
#: truncate the history (append-only) or the imported data (write-once).
_GRANTS = (
    f"GRANT USAGE ON SCHEMA public TO {READER}, {REVIEWER}, {ADMIN}",
    f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER}, {REVIEWER}",
    f"GRANT INSERT ON decision_events, pair_decisions, extraction_rows TO {REVIEWER}",
    f"GRANT UPDATE ON extraction_rows TO {REVIEWER}",
    f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {REVIEWER}",
    f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {ADMIN}",
    f"GRANT UPDATE ON extraction_rows TO {ADMIN}",
    f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {ADMIN}",
    f"REVOKE UPDATE ON {_PROTECTED} FROM {READER}, {REVIEWER}, {ADMIN}",
    f"REVOKE DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM {READER}, {REVIEWER}, "
    f"{ADMIN}",
)
