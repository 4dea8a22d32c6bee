"""CSV import and export of leads: one set of rules for the browser and `import_leads`.

A file is parsed and every row validated before anything is written. With bad rows the
caller chooses: import nothing (fix the file and upload again) or import only the good
rows and hand back a CSV of the rejected ones. Never a silent half-import. The browser's
imports are written by a worker in chunks (leads.jobs), which validates each chunk again
just before writing it and reports what it rejected.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accountability.models import Membership, Team, User
from accountability.scoping import can_manage_team
from leads.models import IntakeSource, Lead
from leads.services import LeadCreateResult, _clean_contact, lead_create

COLUMNS = ["name", "company", "email", "phone", "value", "notes", "owner", "source", "arrived_at"]
REQUIRED_COLUMNS = ["name"]
# Columns of the lead list's export (EXPORT_COLUMNS below) that an import does not set: a new
# lead starts its own life (stage, contacts, follow-ups) in the team it is imported into. A file
# exported from the lead list imports unchanged; the preview names these as ignored.
# "team" is read, not written: it says which team the file's owners and sources belong to.
EXPORT_ONLY_COLUMNS = [
    "id",
    "stage",
    "lost_reason",
    "team",
    "channel",
    "first_contacted_at",
    "last_activity_at",
    "next_follow_up_at",
    "closed_at",
]


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, size, columns)."""


@dataclass
class ImportRow:
    line: int  # line number in the file, header is line 1
    raw: dict[str, str]
    errors: list[str] = field(default_factory=list)
    # What the import will do differently from the file, the row still being good (an owner of
    # another team left to this team's rule, for example).
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ParsedImport:
    rows: list[ImportRow]
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def good(self) -> list[ImportRow]:
        return [r for r in self.rows if r.ok]

    @property
    def bad(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.ok]


@dataclass
class ImportResult:
    created: int = 0
    duplicates: int = 0
    rejected: list[ImportRow] = field(default_factory=list)


def _decode(data: bytes) -> str:
    if len(data) > settings.LEADS_IMPORT_MAX_BYTES:
        limit = settings.LEADS_IMPORT_MAX_BYTES // 1024
        raise ImportFileError(f"The file is too large: at most {limit} KB. Split it into smaller files.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not UTF-8 text (unreadable byte at position {exc.start}). "
            "In your spreadsheet, save it as “CSV UTF-8” and upload it again."
        ) from None


def decode_csv(data: bytes) -> str:
    """The uploaded bytes as text, or ImportFileError (too large, not UTF-8, binary)."""
    text = _decode(data)
    if "\x00" in text:
        raise ImportFileError("This does not look like a CSV file (it contains binary data).")
    return text


@dataclass
class CsvFile:
    """A file whose columns are right, read but not yet validated: its non-blank rows as
    (line number, cells). Reading 5,000 rows takes a few milliseconds; validating them a few
    hundred (leads.jobs validates each chunk just before writing it)."""

    header: list[str]
    ignored_columns: list[str]
    records: list[tuple[int, list[str]]]


def read_csv(text: str) -> CsvFile:
    """Check the header and count the rows. Raises ImportFileError for problems with the whole file."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV: {exc}.") from None
    header = [h.strip().lower() for h in header]
    ignored = [h for h in header if h in EXPORT_ONLY_COLUMNS]
    unknown = [h for h in header if h not in COLUMNS and h not in EXPORT_ONLY_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    problems = []
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    if dupes:
        problems.append(f"repeated column{'s' if len(dupes) > 1 else ''}: {', '.join(dupes)}")
    if not ("email" in header or "phone" in header):
        problems.append("the file needs an email or a phone column")
    if problems:
        raise ImportFileError(
            "The columns are wrong: "
            + "; ".join(problems)
            + f". Allowed columns: {', '.join(COLUMNS)} (and the lead list export's {', '.join(EXPORT_ONLY_COLUMNS)},"
            " which are ignored)."
        )
    records: list[tuple[int, list[str]]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(records) >= settings.LEADS_IMPORT_MAX_ROWS:
                raise ImportFileError(
                    f"The file has more than {settings.LEADS_IMPORT_MAX_ROWS} rows. Split it into smaller files."
                )
            records.append((reader.line_num, values))
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from None
    if not records:
        raise ImportFileError("The file has a header but no rows.")
    return CsvFile(header=header, ignored_columns=ignored, records=records)


def team_lookups(team: Team) -> tuple[dict[str, User], dict[str, IntakeSource]]:
    """The team's active members by username and its intake sources by slug and name (two queries)."""
    owners = {
        u.username.lower(): u
        for u in User.objects.filter(memberships__team=team, is_active=True).only("id", "username", "first_name")
    }
    return owners, _sources_by_key(team)


def validate_records(
    csv_file: CsvFile, records: list[tuple[int, list[str]]], *, team: Team, lookups=None
) -> list[ImportRow]:
    """Each record as an ImportRow with its errors and warnings (no query when `lookups` is given)."""
    header = csv_file.header
    owners, sources = lookups or team_lookups(team)
    rows: list[ImportRow] = []
    for line, values in records:
        row = ImportRow(line=line, raw={h: "" for h in COLUMNS if h in header})
        if len(values) != len(header):
            row.raw.update({h: v for h, v in zip(header, values, strict=False) if h in COLUMNS})
            row.errors.append(f"has {len(values)} cells, the header has {len(header)}")
            rows.append(row)
            continue
        cells = {h: csv_unescape(v.strip()) for h, v in zip(header, values, strict=True)}
        row.raw.update({h: v for h, v in cells.items() if h in COLUMNS})
        _validate_row(row, owners=owners, sources=sources, team=team, from_team=cells.get("team", ""))
        rows.append(row)
    return rows


def parse_csv(data: bytes, *, team: Team) -> ParsedImport:
    """Read and validate every row. Raises ImportFileError for problems with the whole file."""
    csv_file = read_csv(decode_csv(data))
    rows = validate_records(csv_file, csv_file.records, team=team)
    return ParsedImport(rows=rows, ignored_columns=csv_file.ignored_columns)


def _sources_by_key(team: Team) -> dict[str, IntakeSource]:
    """The team's intake sources by slug and by name (lower-cased): a file may give either
    (the export writes the name)."""
    sources = list(IntakeSource.objects.filter(team=team))
    return {**{s.name.lower(): s for s in sources}, **{s.slug.lower(): s for s in sources}}


def _from_other_team(from_team: str, team: Team) -> bool:
    """The row says it was exported from another team (the export's "team" column)."""
    return bool(from_team) and from_team.strip().lower() != team.name.lower()


def _contact(raw: dict) -> dict:
    """A CSV row's contact fields as lead_create and _clean_contact take them (the preview checks
    what the import will write)."""
    return {
        "name": raw.get("name", ""),
        "company": raw.get("company", ""),
        "email": raw.get("email", ""),
        "phone": raw.get("phone", ""),
        "value": raw.get("value", "").replace(",", "") or 0,
        "notes": raw.get("notes", ""),
    }


def _validate_row(row: ImportRow, *, owners: dict, sources: dict, team: Team, from_team: str = "") -> None:
    raw = row.raw
    try:
        _clean_contact(**_contact(raw))
    except ValidationError as exc:
        for fname, messages in exc.message_dict.items():
            row.errors.extend(f"{fname}: {m}" for m in messages)
    foreign = _from_other_team(from_team, team)
    if raw.get("owner") and raw["owner"].lower() not in owners:
        if foreign:
            # Another team's rep: the lead joins this team and its rule assigns it.
            row.warnings.append(f"owner “{raw['owner']}” is in {from_team}: {team}'s rule assigns the lead")
            raw["owner"] = ""
        else:
            row.errors.append(f"owner: no active member of the team is called “{raw['owner']}”")
    if raw.get("source") and raw["source"].lower() not in sources:
        if foreign:
            row.warnings.append(f"source “{raw['source']}” belongs to {from_team}: imported without a source")
            raw["source"] = ""
        else:
            row.errors.append(f"source: no intake source “{raw['source']}” in this team")
    if raw.get("arrived_at"):
        try:
            arrived = _parse_when(raw["arrived_at"])
        except ValueError:
            row.errors.append("arrived_at: use a date such as 2026-11-25 or 2026-11-25T14:30")
        else:
            if arrived > timezone.now():
                row.errors.append("arrived_at: is in the future")


def _parse_when(value: str) -> datetime:
    dt = parse_datetime(value)
    if dt is None:
        d = parse_date(value)
        if d is None:
            raise ValueError(value)
        dt = datetime.combine(d, time(9, 0))
    if timezone.is_naive(dt):
        dt = timezone.make_aware(dt)
    return dt


def import_rows(*, actor: User | None, team: Team, rows: list[ImportRow], skip_bad: bool) -> ImportResult:
    """Write the good rows in one transaction. Without skip_bad, any bad row means nothing is written.

    A row that turns out bad only at write time (a rep deactivated since the preview) is
    rejected with its reason under skip_bad, and stops the whole import otherwise.
    """
    result = ImportResult()
    bad = [r for r in rows if not r.ok]
    if bad and not skip_bad:
        result.rejected = bad
        return result
    result.rejected = list(bad)
    owners = {u.username.lower(): u for u in User.objects.filter(memberships__team=team, is_active=True)}
    sources = _sources_by_key(team)
    with transaction.atomic():
        for row in rows:
            if not row.ok:
                continue
            try:
                created = write_row(row, actor=actor, team=team, owners=owners, sources=sources)
            except ValidationError as exc:
                row.errors.extend(exc.messages)
                result.rejected.append(row)
                if not skip_bad:
                    transaction.set_rollback(True)
                    result.created = result.duplicates = 0
                    return result
                continue
            if created.duplicate:
                result.duplicates += 1
            else:
                result.created += 1
    return result


def write_row(row: ImportRow, *, actor: User | None, team: Team, owners: dict, sources: dict) -> LeadCreateResult:
    """Create (or join as a duplicate) the lead of one good row, in its own savepoint: a row refused
    at write time (ValidationError: a rep deactivated since the preview) leaves nothing behind."""
    raw = row.raw
    with transaction.atomic():
        return lead_create(
            actor=actor,
            team=team,
            **_contact(raw),
            channel=Lead.Channel.CSV,
            source=sources.get(raw.get("source", "").lower()),
            owner=owners.get(raw.get("owner", "").lower()) if raw.get("owner") else None,
            arrived_at=_parse_when(raw["arrived_at"]) if raw.get("arrived_at") else None,
        )


def team_is_importable_by(user: User, team: Team) -> bool:
    """The teams the upload form offers: an admin any, a manager the teams they manage with their
    sub-teams (a head of sales imports into each of their teams), anyone their own teams."""
    return can_manage_team(user, team) or Membership.objects.filter(user=user, team=team).exists()


# --- CSV writing --------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A cell a spreadsheet will show as text, never run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_unescape(text: str) -> str:
    """Undo csv_safe: a cell it protected ("'=...", "'+44...") reads back as it was written."""
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START:
        return text[1:]
    return text


EXPORT_COLUMNS = [
    ("id", lambda lead: lead.pk),
    ("name", lambda lead: lead.name),
    ("company", lambda lead: lead.company),
    ("email", lambda lead: lead.email),
    ("phone", lambda lead: lead.phone),
    ("stage", lambda lead: lead.get_stage_display()),
    ("lost_reason", lambda lead: lead.lost_reason),
    ("owner", lambda lead: lead.owner.username if lead.owner else ""),
    ("team", lambda lead: lead.team.name),
    ("source", lambda lead: lead.source.name if lead.source else ""),
    ("channel", lambda lead: lead.channel),
    ("value", lambda lead: lead.value),
    ("arrived_at", lambda lead: _iso(lead.arrived_at)),
    ("first_contacted_at", lambda lead: _iso(lead.first_contacted_at)),
    ("last_activity_at", lambda lead: _iso(lead.last_activity_at)),
    ("next_follow_up_at", lambda lead: _iso(lead.next_follow_up_at)),
    ("closed_at", lambda lead: _iso(lead.closed_at)),
]


def _iso(dt):
    return timezone.localtime(dt).isoformat(timespec="minutes") if dt else ""


class _Echo:
    def write(self, value):
        return value


def export_header() -> str:
    out = io.StringIO()
    csv.writer(out).writerow([name for name, _ in EXPORT_COLUMNS])
    return out.getvalue()


def export_text(leads) -> str:
    """CSV lines (no header) for an iterable of leads with owner, team and source loaded."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([csv_safe(get(lead)) for _, get in EXPORT_COLUMNS] for lead in leads)
    return out.getvalue()


def export_rows(leads):
    """Yield CSV lines for a (scoped, filtered) queryset of leads, streaming."""
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in EXPORT_COLUMNS])
    for lead in leads.iterator(chunk_size=2000):
        yield writer.writerow([csv_safe(get(lead)) for _, get in EXPORT_COLUMNS])
