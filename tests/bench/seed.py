#!/usr/bin/env python3
"""A benchmark's worth of CRM data, written straight into a freshly migrated database.

    setup(base_url, admin_token, scale) -> context
        Through the HTTP API, as the admin: the reps (`rep{i}@bench.example.com`), their teams,
        the customer custom fields `cf_00`…, and what the data refers to (the default pipeline
        and its stages, the behaviour catalogue).

    seed(database_url, scale, context) -> facts
        Customers with their contacts, activities, opportunities and custom field values, each
        table written by one set-based `INSERT … SELECT` over a numbers source (PostgreSQL:
        `generate_series`; SQLite: a recursive CTE), in one transaction, then `ANALYZE`
        (PostgreSQL: `VACUUM ANALYZE`). Rows are exactly what the application would have written
        for the same data (see below). A SQLite file must have no other connection meanwhile:
        stop its server first.

The data, for customer n (0-based), N customers, R reps (rep i is `context["reps"][i]`):

- Customer n has id `10000000-0000-7000-8000-%012d` % n and is worked by rep n % R; j = n // R
  is its number among that rep's customers. Every 20th of them (j % 20 == 19) sits in the shared
  pool (`owner_id` NULL), the others are owned by the rep. Half of each rep's customers
  (j even) are `prospect`s, the rest `lead`, `customer` or `inactive`. One in four is an
  individual, the others companies. Name `Customer {n}`, email `customer{n}@seed.example.com`,
  phone `138 xxxx xxxx` (E.164 `+86138xxxxxxxx`, xxxxxxxx = n). Created over the last year in
  id order (as UUIDv7 ids would be).
- Contacts 2n (primary; phones 139… and 137…) and 2n+1 (phone 136…), ids
  `20000000-0000-7000-8000-%012d`, each phone also in `contact_phones`.
- Activities 3n, 3n+1, 3n+2 (`30000000-0000-7000-8000-%012d`), by rep n % R, spread between
  the customer's creation and now. Activity 3n's follow-up is done (answered by 3n+1) or
  cancelled for half the customers; activity 3n+2's follow-up is open for 8 in 10 customers:
  j % 10 in 0..2 overdue, j % 10 == 3 due today (UTC) (one activity in 30), 4..7 due within
  the next 60 days. Activity 3n+1 records a behaviour for two customers in three, 3n+2 for
  one in seven; the customer's score is their decayed sum at seeding time, as the app computes
  it. `last_activity_at` and `next_follow_up_at` are those of the activities.
- Opportunity m (`40000000-0000-7000-8000-%012d`) is with customer 5m (mod N), owned by rep
  5m % R (its owner, or for a pool customer the rep who works it), in the default pipeline,
  spread over its open stages, with the stage change the app records on creation
  (`50000000-0000-7000-8000-%012d`). Activity 3·5m+1 is about it.
- Custom field values: every customer has `cf_00` (single select, 10 options, each held by
  about a tenth), `cf_01` (integer) and one more of `cf_02`… by n, in the record's JSON and in
  `custom_field_values` (each index row with the customer's owner, as the app writes it). No
  field is unique or required.

How: every table is one `INSERT … SELECT` computing each row from its number, in id order. On
PostgreSQL the non-unique secondary indexes of the seeded tables are dropped first and built
again from their own definitions after the load (sorted builds instead of scattered inserts that
overflow the shared buffers), and, for a superuser, foreign keys are not checked row by row
(`session_replication_role = replica`; the rows meet them by construction). The seeded tables
are locked until the commit, so API requests touching them wait. SQLite keeps its indexes (it
maintains them faster with a large page cache) and is written by the seed alone, its rollback
journal in memory and without waiting for the disk; it is back in WAL mode afterwards.

Not written: the customers' history entries (their history lists start empty) and the
`follow_up.due` outbox events of follow-ups already due (their `follow_up_reminded_at` is set,
as after the reminder job ran, so the job does not emit them all at once).

Self-check: `python3 tests/bench/seed.py --customers 10000 [--postgres SERVER_URL]` seeds a
fresh database behind a fresh server and checks the API serves the data.
"""

import argparse
import datetime
import json
import math
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

REP_PASSWORD = "bench-rep-password-0123"
CUSTOMER_PREFIX = "10000000-0000-7000-8000-"
CONTACT_PREFIX = "20000000-0000-7000-8000-"
ACTIVITY_PREFIX = "30000000-0000-7000-8000-"
OPPORTUNITY_PREFIX = "40000000-0000-7000-8000-"
STAGE_CHANGE_PREFIX = "50000000-0000-7000-8000-"

DAY = 86_400
YEAR = 365 * DAY


def default_scale(customers):
    """The scale of `customers` customers with the default ratios."""
    return {"customers": customers, "contacts": 2 * customers, "activities": 3 * customers,
            "opportunities": customers // 5, "custom_fields": 20, "reps": 50, "teams": 5}


def customer_id(n):
    return f"{CUSTOMER_PREFIX}{n:012d}"


def contact_id(n):
    return f"{CONTACT_PREFIX}{n:012d}"


def activity_id(n):
    return f"{ACTIVITY_PREFIX}{n:012d}"


def opportunity_id(m):
    return f"{OPPORTUNITY_PREFIX}{m:012d}"


def in_pool(n, reps):
    """Whether customer n sits in the shared pool (for callers choosing customers)."""
    return (n // reps) % 20 == 19


# ---------------------------------------------------------------------------------------------
# The HTTP API
# ---------------------------------------------------------------------------------------------

class ApiError(Exception):
    def __init__(self, status, method, url, body):
        super().__init__(f"{method} {url}: {status} {body[:500]}")
        self.status = status
        self.body = body


def call(base_url, method, path, token=None, body=None, content_type="application/json"):
    """The JSON answer of one API request; `ApiError` on an error status."""
    url = base_url.rstrip("/") + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        raise ApiError(e.code, method, url, e.read().decode(errors="replace")) from None


def all_pages(base_url, path, token):
    """Every item of a paged list."""
    items, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        after = f"&cursor={cursor}" if cursor else ""
        page = call(base_url, "GET", f"{path}{sep}limit=200{after}", token)
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


# The customer custom fields, by key `cf_{i:02d}`: field i has the type of FIELD_TYPES[i % 20].
# The values each customer gets are built in `_Plan.field_value`.
SEGMENTS = [f"seg_{i}" for i in range(10)]
INTERESTS = ["crm", "erp", "hr", "bi", "cloud"]
TIERS = ["gold", "silver", "bronze"]
FIELD_TYPES = [
    ("single_select", "Segment",
     {"options": [{"key": k, "label": f"Segment {k[-1]}"} for k in SEGMENTS]}),
    ("integer", "Employees", {"min": 0}),
    ("text", "Region code", {"max_length": 100}),
    ("decimal", "Annual revenue (M)", {"decimal_places": 2}),
    ("boolean", "Newsletter", {}),
    ("date", "Contract renewal", {}),
    ("multi_select", "Interests", {"options": [{"key": k, "label": k.upper()} for k in INTERESTS]}),
    ("money", "Budget", {"currency": "CNY"}),
    ("url", "Homepage", {}),
    ("email", "Billing email", {}),
    ("phone", "Hotline", {}),
    ("datetime", "Last visit", {}),
    ("long_text", "Background", {}),
    ("text", "Account code", {}),
    ("integer", "Branches", {}),
    ("single_select", "Tier", {"options": [{"key": k, "label": k.title()} for k in TIERS]}),
    ("date", "Founded on", {}),
    ("boolean", "Key account", {}),
    ("decimal", "Discount rate", {"decimal_places": 2}),
    ("user", "Account manager", {}),
]


def setup(base_url, admin_token, scale):
    """Creates (or finds, when already there) the reps, teams and customer custom fields through
    the API as the admin, and reads the default pipeline and the behaviour catalogue. Returns
    the context `seed` needs, JSON-serialisable."""
    reps_wanted = scale.get("reps", 50)
    teams_wanted = max(1, scale.get("teams", 5))
    fields_wanted = scale.get("custom_fields", 20)
    admin_id = call(base_url, "GET", "/api/v1/me", admin_token)["user"]["id"]

    # Reps: rep i is `rep{i}@bench.example.com`.
    existing = {u["email"].lower(): u for u in all_pages(base_url, "/api/v1/users", admin_token)}
    reps = []
    for i in range(reps_wanted):
        email = f"rep{i}@bench.example.com"
        user = existing.get(email) or call(base_url, "POST", "/api/v1/users", admin_token, {
            "email": email, "display_name": f"Rep {i}", "role": "rep", "password": REP_PASSWORD})
        reps.append({"id": user["id"], "email": email, "password": REP_PASSWORD})

    # Teams: rep i belongs to team i % teams; the admin manages them all.
    existing = {t["name"]: t for t in all_pages(base_url, "/api/v1/teams", admin_token)}
    teams = []
    for t in range(teams_wanted):
        name = f"Bench team {t}"
        members = [r["id"] for i, r in enumerate(reps) if i % teams_wanted == t]
        if name in existing:
            team = call(base_url, "PATCH", f"/api/v1/teams/{existing[name]['id']}", admin_token,
                        {"member_ids": members}, "application/merge-patch+json")
        else:
            team = call(base_url, "POST", "/api/v1/teams", admin_token,
                        {"name": name, "manager_ids": [admin_id], "member_ids": members})
        teams.append(team["id"])
    for i, rep in enumerate(reps):
        rep["team_id"] = teams[i % teams_wanted]

    # Customer custom fields cf_00…, of every type the API has.
    existing = {f["key"]: f for f in call(base_url, "GET", "/api/v1/custom-fields?entity=customer",
                                          admin_token)["items"]}
    fields = []
    for i in range(fields_wanted):
        key = f"cf_{i:02d}"
        field_type, label, rules = FIELD_TYPES[i % len(FIELD_TYPES)]
        field = existing.get(key) or call(base_url, "POST", "/api/v1/custom-fields", admin_token, {
            "entity": "customer", "key": key, "label": f"{label} ({key})", "type": field_type,
            "rules": rules, "position": i})
        options = (field.get("rules") or {}).get("options") or []
        fields.append({"id": field["id"], "key": key, "type": field["type"],
                       "options": [o["key"] for o in options]})

    # The default pipeline and its stages in order.
    pipelines = call(base_url, "GET", "/api/v1/pipelines", admin_token)["items"]
    pipeline = next((p for p in pipelines if p["is_default"]), pipelines[0] if pipelines else None)
    if pipeline is None:
        pipeline = call(base_url, "POST", "/api/v1/pipelines", admin_token, {
            "name": "New business", "stages": [
                {"name": "Qualification", "kind": "open", "probability": 10},
                {"name": "Proposal", "kind": "open", "probability": 40},
                {"name": "Negotiation", "kind": "open", "probability": 70},
                {"name": "Won", "kind": "won", "probability": 100},
                {"name": "Lost", "kind": "lost", "probability": 0}]})
    stages = sorted(pipeline["stages"], key=lambda s: s["position"])

    behaviors = call(base_url, "GET", "/api/v1/behaviors", admin_token)["items"]
    return {
        "admin_id": admin_id,
        "reps": reps,
        "teams": teams,
        "pipeline_id": pipeline["id"],
        "stage_ids": [s["id"] for s in stages],
        "stages": [{"id": s["id"], "kind": s["kind"], "probability": s["probability"]}
                   for s in stages],
        "fields": fields,
        "behaviors": [b["code"] for b in behaviors if not b.get("archived")],
    }


# ---------------------------------------------------------------------------------------------
# SQL dialects: the few expressions the two backends spell differently
# ---------------------------------------------------------------------------------------------

# Stands for a statement's numbers source, a relation `seq(i)` of i = 0 … count-1.
SEQ = "SEQ_SOURCE"


def lit(text):
    """An SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


# The tables seed writes.
SEEDED_TABLES = ("customers", "contacts", "contact_phones", "opportunities",
                 "opportunity_stage_changes", "activities", "custom_field_values")

# How the indexes are kept up: PostgreSQL (128 MB of shared buffers by default) spends most of a
# big load on scattered index inserts and their WAL, so its secondary indexes are dropped and
# built again after the load; SQLite, given a large page cache, maintains them row by row for
# less than building them again costs (at 1M customers: 197 s kept, 219 s rebuilt).


class _Sqlite:
    true, false = "1", "0"

    def insert(self, table, columns, count, select):
        """`INSERT INTO table (columns) select`, the select reading i = 0 … count-1 from SEQ."""
        return (f"WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq "
                f"WHERE i < {count - 1})\nINSERT INTO {table} ({', '.join(columns)})\n"
                + select.replace(SEQ, "seq"))

    def int(self, expr):
        return expr

    def pad(self, expr, width):
        return f"printf('%0{width}d', {expr})"

    def ts(self, seconds):
        """The instant `seconds` after the epoch as diesel stores it (`YYYY-MM-DD HH:MM:SS`)."""
        return f"datetime({seconds}, 'unixepoch')"

    def date(self, seconds):
        return f"date({seconds}, 'unixepoch')"

    def date_text(self, seconds):
        """The date as `YYYY-MM-DD` text."""
        return self.date(seconds)

    def rfc3339(self, seconds):
        return f"strftime('%Y-%m-%dT%H:%M:%S', {seconds}, 'unixepoch')"

    def real(self, expr):
        return f"CAST({expr} AS REAL)"

    def pow(self, base, exponent):
        return f"pow({base}, {exponent})"

    def round_int(self, expr):
        """Rounded half away from zero (as Rust's `f64::round`), as an integer."""
        return f"CAST(round({expr}) AS INTEGER)"


class _Postgres:
    true, false = "true", "false"

    def secondary_indexes(self, query):
        """`(name, definition)` of the non-unique indexes of the seeded tables that back no
        constraint."""
        tables = ", ".join(lit(t) for t in SEEDED_TABLES)
        return [tuple(row) for row in query(
            "SELECT ci.relname, pg_get_indexdef(ix.indexrelid) FROM pg_index ix"
            " JOIN pg_class ci ON ci.oid = ix.indexrelid JOIN pg_class ct ON ct.oid = ix.indrelid"
            " JOIN pg_namespace ns ON ns.oid = ct.relnamespace"
            f" WHERE ns.nspname = current_schema() AND ct.relname IN ({tables})"
            " AND NOT ix.indisunique AND NOT ix.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = ix.indexrelid)"
            " ORDER BY ct.relname, ci.relname")]

    def insert(self, table, columns, count, select):
        return (f"INSERT INTO {table} ({', '.join(columns)})\n"
                + select.replace(SEQ, f"generate_series(0::bigint, {count - 1}) AS seq(i)"))

    def int(self, expr):
        return f"({expr})::int"

    def pad(self, expr, width):
        return f"lpad(({expr})::text, {width}, '0')"

    def ts(self, seconds):
        return f"(timestamp '1970-01-01 00:00:00' + ({seconds}) * interval '1 second')"

    def date(self, seconds):
        return f"(date '1970-01-01' + (({seconds}) / {DAY})::int)"

    def date_text(self, seconds):
        return f"to_char({self.date(seconds)}, 'YYYY-MM-DD')"

    def rfc3339(self, seconds):
        return f"to_char({self.ts(seconds)}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"

    def real(self, expr):
        return f"({expr})::float8"

    def pow(self, base, exponent):
        return f"power({base}::float8, {exponent})"

    def round_int(self, expr):
        # round(float8) rounds half to even; numeric rounds half away from zero, as Rust does.
        return f"round(({expr})::numeric)::bigint"


def pick(index, values):
    """`values[index]` (SQL expressions), NULL when out of range."""
    whens = " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(values))
    return f"(CASE {index} {whens} END)"


def compact(value):
    """JSON as serde_json writes it: no spaces."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# The data set as SQL
# ---------------------------------------------------------------------------------------------

INDUSTRIES = ["Manufacturing", "Retail", "Logistics", "Software", "Healthcare", "Education",
              "Construction", "Finance"]
COMPANY_SIZES = ["1-10", "11-50", "51-200", "201-1000", "1000+"]
CITIES = ["Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Chengdu", "Wuhan"]
TAGS = [[], ["vip"], ["key account"], ["east"], ["east", "vip"], ["trade show 2026"]]
FIRST_NAMES = ["Wei", "Fang", "Jing", "Lei", "Min", "Tao", "Yan", "Hui", "Jun", "Li"]
LAST_NAMES = ["Zhang", "Wang", "Li", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu"]
TITLES = ["Purchasing manager", "CEO", "IT director", "Operations lead"]
ACTIVITY_KINDS = ["call", "visit", "meeting", "email", "message", "note", "other"]
SUBJECTS = ["Intro call", "On-site visit", "Product demo", "Sent the price list",
            "WeChat follow-up", "Internal note", "Met at the trade fair"]
CONTENTS = ["The customer asked about delivery times and volume discounts.",
            "Walked through the cloud edition; they want a pilot for one team.",
            "They compare us with two competitors and decide next quarter."]
DEAL_NAMES = ["Annual licence", "Pilot project", "Expansion", "Renewal"]


class _Plan:
    """The INSERT statements of one data set on one backend.

    Every value is an SQL expression of the row's number: n for customer n, and for the tables
    with several rows per customer the row number i from which n and the row's place k follow.
    Instants are whole seconds since the epoch until written (`ts`)."""

    def __init__(self, dialect, scale, context, catalogue, now):
        self.d = dialect
        self.N = scale["customers"]
        self.O = scale.get("opportunities", self.N // 5)
        rep_ids = [r["id"] for r in context["reps"]]
        if not rep_ids or any(len(r) != 36 for r in rep_ids):
            raise ValueError("seed needs at least one rep, with a 36-character UUID id")
        self.R = len(rep_ids)
        # Rep i's id is the i-th 36-character slice of them all: a lookup without a join.
        self.rep_ids = lit("".join(rep_ids))
        self.admin_id = lit(context["admin_id"])
        self.pipeline_id = lit(context["pipeline_id"])
        self.fields = context["fields"]
        self.behaviors = catalogue["behaviors"]
        self.half_life = catalogue["half_life_days"]
        self.lead_sources = catalogue["lead_sources"]
        self.stages = catalogue["open_stages"]
        self.T = int(now)
        self.today = self.T - self.T % DAY

    # -- shared expressions --------------------------------------------------------------------

    def rep(self, index):
        """The id of rep `index`."""
        return f"substr({self.rep_ids}, {self.d.int(f'({index}) * 36 + 1')}, 36)"

    def ident(self, prefix, number):
        return f"({lit(prefix)} || {self.d.pad(number, 12)})"

    def j(self, n):
        """Customer n's number among the customers of its rep."""
        return f"(({n}) / {self.R})"

    def pool(self, n):
        return f"({self.j(n)} % 20 = 19)"

    def created(self, n):
        """When customer n was created: over the last year (up to 10 days ago), in id order."""
        return f"({self.T - YEAR} + ({n}) * {YEAR - 10 * DAY} / {self.N})"

    def occurred(self, n, k):
        """When activity k (0, 1, 2) of customer n happened: at 1/6, 3/6 and 5/6 of the time
        between the customer's creation and now, plus up to an hour."""
        c = self.created(n)
        return f"({c} + ({self.T} - {c}) * (2 * ({k}) + 1) / 6 + ({n}) * 37 % 3600)"

    def open_due(self, n):
        """When the open follow-up of customer n's last activity is due (NULL: none)."""
        j10 = f"({self.j(n)} % 10)"
        last = self.occurred(n, 2)
        return (f"(CASE WHEN {j10} < 3 THEN {last} + ({self.T} - {last}) / 2"
                f" WHEN {j10} = 3 THEN {self.today} + ({n}) * 7919 % {DAY}"
                f" WHEN {j10} < 8 THEN {self.today + DAY} + ({n}) * 7919 % {60 * DAY} END)")

    def behavior_json(self, index):
        """The `behaviors` column of an activity recording catalogue behaviour `index`."""
        return pick(index, [lit(compact([{"code": c, "points": p}])) for c, p in self.behaviors])

    def decayed(self, index, occurred):
        """Behaviour `index` recorded at `occurred`, as worth now: halved every half-life."""
        points = pick(index, [str(p) for _, p in self.behaviors])
        age_days = f"{self.d.real(f'{self.T} - {occurred}')} / 86400.0 / {self.half_life}.0"
        return f"{points} * {self.d.pow('0.5', age_days)}"

    def score(self, n):
        """Customer n's score: the decayed points of the behaviours its activities record."""
        if not self.behaviors:
            return "0"
        b = len(self.behaviors)
        first = (f"(CASE WHEN ({n}) % 3 <> 2 THEN "
                 f"{self.decayed(f'({n}) % {b}', self.occurred(n, 1))} ELSE 0.0 END)")
        second = (f"(CASE WHEN ({n}) % 7 = 0 THEN "
                  f"{self.decayed(f'(({n}) + 2) % {b}', self.occurred(n, 2))} ELSE 0.0 END)")
        return self.d.round_int(f"{first} + {second}")

    # -- custom fields -------------------------------------------------------------------------

    def field_value(self, i, field, n):
        """Customer n's value of custom field i: its canonical JSON (as the record stores it) and
        its index rows `(value_number, value_text)` (as `custom_field_values` holds them)."""
        d, t = self.d, field["type"]
        quoted = lambda text: f"('\"' || {text} || '\"')"  # noqa: E731  (a JSON string)
        options = field.get("options") or []
        if t == "single_select" and options:
            # A multiplicative hash spreads the options evenly over every rep's customers.
            index = f"(({n}) * 2654435761 / 4096 % {len(options)})"
            key = pick(index, [lit(o) for o in options])
            return quoted(key), [("NULL", key)]
        if t == "multi_select" and options:
            first = f"(({n}) % {len(options)})"
            if len(options) == 1:
                key = pick(first, [lit(o) for o in options])
                return f"('[' || {quoted(key)} || ']')", [("NULL", key)]
            count = len(options)
            second = f"(({first} + 1 + ({n}) / {count} % {count - 1}) % {count})"
            a, b = (pick(x, [lit(o) for o in options]) for x in (first, second))
            return f"('[' || {quoted(a)} || ',' || {quoted(b)} || ']')", [("NULL", a), ("NULL", b)]
        if t == "integer":
            value = f"(({n}) * {37 + i} % 5000 + 1)"
            return value, [(value, "NULL")]
        if t == "decimal":
            # Two decimal places; x.25 and x.75 are exact in binary, so the JSON is as written.
            whole, cents = f"(({n}) % {100_000 - i})", 25 if i % 2 else 75
            return f"({whole} || '.{cents}')", [(f"({whole} * 100 + {cents})", "NULL")]
        if t == "boolean":
            on = f"(({n}) % {2 + i % 3} = 0)"
            return (f"(CASE WHEN {on} THEN 'true' ELSE 'false' END)",
                    [(f"(CASE WHEN {on} THEN 1 ELSE 0 END)", "NULL")])
        if t == "money":
            amount = f"((({n}) % 1000 + 1) * 100000)"
            json_value = f"('{{\"amount_minor\":' || {amount} || ',\"currency\":\"CNY\"}}')"
            return json_value, [(amount, "NULL")]
        if t == "date":
            day = d.date_text(f"{self.T - 5 * YEAR} + (({n}) * {7 + i} % {6 * 365}) * {DAY}")
            return quoted(day), [("NULL", day)]
        if t == "datetime":
            at = f"({d.rfc3339(f'{self.T} - ({n}) * 7919 % {YEAR}')} || '.000000Z')"
            return quoted(at), [("NULL", at)]
        if t == "url":
            url = f"('https://www.customer' || ({n}) || '.example.org/')"
            return quoted(url), [("NULL", url)]
        if t == "email":
            email = f"('billing' || ({n}) || '@seed.example.com')"
            return quoted(email), [("NULL", email)]
        if t == "phone":
            phone = f"('+86135' || {d.pad(n, 8)})"
            return quoted(phone), [("NULL", phone)]
        if t == "user":
            user = self.rep(f"({n}) % {self.R}")
            return quoted(user), [("NULL", user)]
        if t == "long_text":
            city = pick(f"({n}) % {len(CITIES)}", [lit(c) for c in CITIES])
            text = (f"('Met at the ' || {city} || ' trade fair; interested in the cloud edition"
                    f" (customer ' || ({n}) || ').')")
            return quoted(text), [("NULL", f"lower({text})")]
        # text (and anything else stored as text): index rows hold it lower-cased.
        text = f"('Region ' || (({n}) % {40 + i}))" if i % 2 == 0 else f"('ACC-' || ({n}))"
        return quoted(text), [("NULL", f"lower({text})")]

    def custom_json(self, n):
        """Customer n's `custom_fields`: cf_00, cf_01 and one more by n, keys in order."""
        fields = self.fields
        if not fields:
            return "'{}'"
        parts = [f"'{{\"{fields[0]['key']}\":' || {self.field_value(0, fields[0], n)[0]}"]
        if len(fields) > 1:
            parts.append(f"',\"{fields[1]['key']}\":' || {self.field_value(1, fields[1], n)[0]}")
        extra = fields[2:]
        if extra:
            parts.append(pick(f"(({n}) % {len(extra)})", [
                f"(',\"{f['key']}\":' || {self.field_value(i + 2, f, n)[0]})"
                for i, f in enumerate(extra)]))
        return " || ".join(parts) + " || '}'"

    # -- the statements ------------------------------------------------------------------------

    def owner(self, n):
        """Customer n's owner: the rep who works it, or NULL in the pool."""
        return f"(CASE WHEN {self.pool(n)} THEN NULL ELSE {self.rep(f'{n} % {self.R}')} END)"

    def customers(self):
        """Customer n for n = 0 … N-1, with its activities' derived values and its score."""
        d, n = self.d, "n"
        company = "(n % 4 <> 3)"
        digits = d.pad(n, 8)
        rep = self.rep(f"n % {self.R}")  # the rep who works customer n
        owner = self.owner(n)
        others = pick(f"({self.j(n)} / 2 % 3)", [lit("lead"), lit("customer"), lit("inactive")])
        status = f"(CASE WHEN {self.j(n)} % 2 = 0 THEN 'prospect' ELSE {others} END)"
        one_of = lambda index, values: pick(index, [lit(v) for v in values])  # noqa: E731
        lead_source = (one_of(f"(n % {len(self.lead_sources)})", self.lead_sources)
                       if self.lead_sources else "NULL")
        columns = {
            "id": self.ident(CUSTOMER_PREFIX, n),
            "kind": f"(CASE WHEN {company} THEN 'company' ELSE 'individual' END)",
            "name": "('Customer ' || n)",
            "legal_name": f"(CASE WHEN {company} THEN 'Customer ' || n || ' Co., Ltd.' END)",
            "industry": f"(CASE WHEN {company} THEN {one_of('(n % 8)', INDUSTRIES)} END)",
            "company_size": f"(CASE WHEN {company} THEN {one_of('(n % 5)', COMPANY_SIZES)} END)",
            "website": (f"(CASE WHEN {company} THEN 'https://customer' || n"
                        f" || '.seed.example.com' END)"),
            "address": (f"('No. ' || (n % 999 + 1) || ' Seed Road, '"
                        f" || {one_of('(n % 6)', CITIES)})"),
            "tax_id": f"(CASE WHEN {company} THEN '9131' || {d.pad(n, 14)} END)",
            "gender": (f"(CASE WHEN NOT {company} THEN"
                       f" (CASE WHEN n % 2 = 0 THEN 'female' ELSE 'male' END) END)"),
            # 1960-01-01 plus up to 41 years.
            "birthday": (f"(CASE WHEN NOT {company} THEN"
                         f" {d.date(f'-315619200 + (n * 7919 % 15000) * {DAY}')} END)"),
            "phone": f"('138 ' || substr({digits}, 1, 4) || ' ' || substr({digits}, 5, 4))",
            "phone_normalized": f"('+86138' || {digits})",
            "email": "('customer' || n || '@seed.example.com')",
            "email_normalized": "('customer' || n || '@seed.example.com')",
            "status": status,
            "classification": pick("(n % 4)", ["'A'", "'B'", "'C'", "NULL"]),
            "lead_source": lead_source,
            "tags": pick("(n % 6)", [lit(compact(t)) for t in TAGS]),
            "owner_id": owner,
            "score": self.score(n),
            "last_activity_at": d.ts(self.occurred(n, 2)),
            "next_follow_up_at": d.ts(self.open_due(n)),
            "created_by": f"(CASE WHEN {self.pool(n)} THEN {self.admin_id} ELSE {rep} END)",
            "created_at": d.ts(self.created(n)),
            "updated_at": d.ts(f"{self.created(n)} + n % 97 * 3600"),
            "deleted_at": "NULL",
            "version": "1",
            "custom_fields": self.custom_json(n),
            "external_id": "NULL",
        }
        select = ("SELECT " + ",\n  ".join(columns.values())
                  + f"\nFROM (SELECT i AS n FROM {SEQ}) AS s")
        return d.insert("customers", list(columns), self.N, select)

    def contacts(self):
        """Two per customer: contact 2n (primary, two mobiles) and 2n+1 (one)."""
        d = self.d
        digits = d.pad("c", 8)
        four = f"substr({digits}, 1, 4) || ' ' || substr({digits}, 5, 4)"
        columns = {
            "id": self.ident(CONTACT_PREFIX, "c"),
            "customer_id": self.ident(CUSTOMER_PREFIX, "n"),
            "name": (f"({pick('(c % 10)', [lit(x) for x in FIRST_NAMES])} || ' ' || "
                     f"{pick('(c / 10 % 10)', [lit(x) for x in LAST_NAMES])} || ' ' || c)"),
            "title": f"(CASE WHEN k = 0 THEN {pick('(n % 4)', [lit(t) for t in TITLES])} END)",
            "phones": (f"(CASE WHEN k = 0"
                       f" THEN '[\"139 ' || {four} || '\",\"137 ' || {four} || '\"]'"
                       f" ELSE '[\"136 ' || {four} || '\"]' END)"),
            "phones_normalized": (f"(CASE WHEN k = 0 THEN '[\"+86139' || {digits}"
                                  f" || '\",\"+86137' || {digits} || '\"]'"
                                  f" ELSE '[\"+86136' || {digits} || '\"]' END)"),
            # The second contact's address as typed in mixed case; matching uses lower case.
            "email": (f"(CASE WHEN k = 0 THEN 'contact' || c || '@seed.example.com'"
                      f" ELSE 'Contact' || c || '@Seed.Example.com' END)"),
            "email_normalized": "('contact' || c || '@seed.example.com')",
            "wechat_id": "(CASE WHEN k = 0 THEN 'wx_seed_' || c END)",
            "notes": "(CASE WHEN k = 1 THEN 'Prefers WeChat in the afternoon.' END)",
            "is_primary": "(k = 0)",
            "created_at": d.ts(f"{self.created('n')} + 60 * (k + 1)"),
            "updated_at": d.ts(f"{self.created('n')} + 60 * (k + 1)"),
            "deleted_at": "NULL",
            "version": "1",
            "custom_fields": "'{}'",
        }
        select = ("SELECT " + ",\n  ".join(columns.values())
                  + f"\nFROM (SELECT i AS c, i / 2 AS n, i % 2 AS k FROM {SEQ}) AS s")
        return d.insert("contacts", list(columns), 2 * self.N, select)

    def contact_phones(self):
        """Each contact phone, for duplicate checks: per customer (2n, 137…), (2n, 139…),
        (2n+1, 136…), in key order."""
        d = self.d
        columns = {
            "contact_id": self.ident(CONTACT_PREFIX, "2 * n + p / 2"),
            "phone_normalized": (f"(CASE p WHEN 0 THEN '+86137' || {d.pad('2 * n', 8)}"
                                 f" WHEN 1 THEN '+86139' || {d.pad('2 * n', 8)}"
                                 f" ELSE '+86136' || {d.pad('2 * n + 1', 8)} END)"),
        }
        select = ("SELECT " + ",\n  ".join(columns.values())
                  + f"\nFROM (SELECT i / 3 AS n, i % 3 AS p FROM {SEQ}) AS s")
        return d.insert("contact_phones", list(columns), 3 * self.N, select)

    def opportunities(self):
        """Opportunity m with customer 5m (mod N), in an open stage of the default pipeline."""
        d = self.d
        created = f"({self.occurred('c', 0)} + 3600)"
        stage = pick(f"(m % {len(self.stages)})", [lit(s) for s, _ in self.stages])
        columns = {
            "id": self.ident(OPPORTUNITY_PREFIX, "m"),
            "customer_id": self.ident(CUSTOMER_PREFIX, "c"),
            "owner_id": self.rep(f"c % {self.R}"),
            "name": f"({pick('(m % 4)', [lit(x) for x in DEAL_NAMES])} || ' - Customer ' || c)",
            "pipeline_id": self.pipeline_id,
            "stage_id": stage,
            "status": "'open'",
            "currency": "'CNY'",
            "lines": "'[]'",
            "amount": "((m * 7919 % 500 + 1) * 10000)",
            "expected_close_on": d.date(f"{self.T} + (m % 180 + 1) * {DAY}"),
            "closed_at": "NULL",
            "lost_reason": "NULL",
            "checklist": "'[]'",
            "stage_entered_at": d.ts(created),
            "created_at": d.ts(created),
            "updated_at": d.ts(created),
            "deleted_at": "NULL",
            "version": "1",
            "custom_fields": "'{}'",
        }
        select = ("SELECT " + ",\n  ".join(columns.values())
                  + f"\nFROM (SELECT i AS m, i * 5 % {self.N} AS c FROM {SEQ}) AS s")
        return d.insert("opportunities", list(columns), self.O, select)

    def stage_changes(self):
        """The stage each opportunity entered when it was created."""
        d = self.d
        columns = {
            "id": self.ident(STAGE_CHANGE_PREFIX, "m"),
            "opportunity_id": self.ident(OPPORTUNITY_PREFIX, "m"),
            "from_stage_id": "NULL",
            "to_stage_id": pick(f"(m % {len(self.stages)})", [lit(s) for s, _ in self.stages]),
            "changed_by": self.rep(f"c % {self.R}"),
            "changed_at": d.ts(f"({self.occurred('c', 0)} + 3600)"),
            "amount": "((m * 7919 % 500 + 1) * 10000)",
            "probability": pick(f"(m % {len(self.stages)})", [str(p) for _, p in self.stages]),
            "seconds_in_previous": "0",
            "note": "NULL",
            "overridden": d.false,
        }
        select = ("SELECT " + ",\n  ".join(columns.values())
                  + f"\nFROM (SELECT i AS m, i * 5 % {self.N} AS c FROM {SEQ}) AS s")
        return d.insert("opportunity_stage_changes", list(columns), self.O, select)

    def activities(self):
        """Three per customer, by the rep who works it; follow-ups as the module describes."""
        d, T = self.d, self.T
        occurred = self.occurred("n", "k")
        first, second = self.occurred("n", 0), self.occurred("n", 1)
        due_first = f"({first} + {2 * DAY})"       # the first activity's follow-up
        due_open = self.open_due("n")               # the last activity's follow-up
        done = "(k = 0 AND j % 4 = 0)"             # answered by the second activity
        cancelled = "(k = 0 AND j % 4 = 1)"        # called off by the rep a day later
        pending = f"(k = 2 AND {due_open} IS NOT NULL)"
        b = len(self.behaviors)
        behaviors = "'[]'" if not b else (
            f"(CASE WHEN k = 1 AND n % 3 <> 2 THEN {self.behavior_json(f'(n % {b})')}"
            f" WHEN k = 2 AND n % 7 = 0 THEN {self.behavior_json(f'((n + 2) % {b})')}"
            f" ELSE '[]' END)")
        columns = {
            "id": self.ident(ACTIVITY_PREFIX, "a"),
            "customer_id": self.ident(CUSTOMER_PREFIX, "n"),
            "contact_id": f"(CASE WHEN k < 2 THEN {self.ident(CONTACT_PREFIX, '2 * n + k')} END)",
            "author_id": self.rep(f"n % {self.R}"),
            "kind": pick("(a % 7)", [lit(x) for x in ACTIVITY_KINDS]),
            "occurred_at": d.ts(occurred),
            "subject": f"({pick('(a % 7)', [lit(x) for x in SUBJECTS])} || ' - Customer ' || n)",
            "content": f"(CASE WHEN k < 2 THEN {pick('(a % 3)', [lit(x) for x in CONTENTS])} END)",
            "outcome": "(CASE k WHEN 0 THEN 'Interested' WHEN 1 THEN 'Quote requested' END)",
            "attachments": ("(CASE WHEN a % 10 = 0"
                            " THEN '[{\"url\":\"https://files.seed.example.com/activities/'"
                            " || a || '.pdf\",\"name\":\"Visit notes.pdf\"}]' ELSE '[]' END)"),
            "custom_fields": "'{}'",
            "follow_up_at": (f"(CASE WHEN k = 0 AND j % 4 < 2 THEN {d.ts(due_first)}"
                             f" WHEN k = 2 THEN {d.ts(due_open)} END)"),
            "follow_up_note": (f"(CASE WHEN k = 0 AND j % 4 < 2 THEN 'Send the price list'"
                               f" WHEN {pending} THEN 'Call back about the quote' END)"),
            "follow_up_state": (f"(CASE WHEN {done} THEN 'done' WHEN {cancelled} THEN 'cancelled'"
                                f" WHEN {pending} THEN 'pending' END)"),
            "follow_up_closed_at": (f"(CASE WHEN {done} THEN {d.ts(second)}"
                                    f" WHEN {cancelled} THEN {d.ts(f'{first} + {DAY}')} END)"),
            "follow_up_closed_by": (f"(CASE WHEN {done} THEN {self.ident(ACTIVITY_PREFIX, 'a + 1')}"
                                    f" WHEN {cancelled} THEN {self.rep(f'n % {self.R}')} END)"),
            "created_at": d.ts(occurred),
            "updated_at": (f"(CASE WHEN {done} THEN {d.ts(second)}"
                           f" WHEN {cancelled} THEN {d.ts(f'{first} + {DAY}')}"
                           f" ELSE {d.ts(occurred)} END)"),
            "deleted_at": "NULL",
            "version": f"(CASE WHEN k = 0 AND j % 4 < 2 THEN 2 ELSE 1 END)",
            # Follow-ups already due were reminded of when they came due.
            "follow_up_reminded_at": (f"(CASE WHEN {done} THEN {d.ts(due_first)}"
                                      f" WHEN k = 2 AND {due_open} <= {T}"
                                      f" THEN {d.ts(due_open)} END)"),
            "behaviors": behaviors,
            "opportunity_id": (f"(CASE WHEN k = 1 AND n % 5 = 0 AND n / 5 < {self.O}"
                               f" THEN {self.ident(OPPORTUNITY_PREFIX, 'n / 5')} END)"),
        }
        select = ("SELECT " + ",\n  ".join(columns.values())
                  + f"\nFROM (SELECT i AS a, i / 3 AS n, i % 3 AS k, i / 3 / {self.R} AS j"
                    f" FROM {SEQ}) AS s")
        return d.insert("activities", list(columns), 3 * self.N, select)

    def custom_field_values(self):
        """The index rows of each customer's values, customer by customer: slot 0 cf_00, slot 1
        cf_01, slots 2 and 3 the rows of its third field (3: a multi-select's second option)."""
        fields = self.fields
        if not fields:
            return None
        # Typed NULLs: PostgreSQL takes a CASE of untyped NULLs alone for text.
        number = lambda expr: "CAST(NULL AS BIGINT)" if expr == "NULL" else expr  # noqa: E731
        slots = []  # per slot: (field id expr, number expr, text expr, condition)
        for i, f in enumerate(fields[:2]):
            rows = self.field_value(i, f, "n")[1]
            slots.append((lit(f["id"]), number(rows[0][0]), rows[0][1], "1 = 1"))
        extra = fields[2:]
        if extra:
            which = f"(n % {len(extra)})"
            values = [self.field_value(i + 2, f, "n")[1] for i, f in enumerate(extra)]
            ids = pick(which, [lit(f["id"]) for f in extra])
            for row in (0, 1):
                holders = [e for e, v in enumerate(values) if len(v) > row]
                if not holders:
                    continue
                condition = "1 = 1" if len(holders) == len(extra) else \
                    f"{which} IN ({', '.join(map(str, holders))})"
                slots.append((ids,
                              pick(which, [number(v[row][0] if len(v) > row else "NULL")
                                           for v in values]),
                              pick(which, [v[row][1] if len(v) > row else "NULL" for v in values]),
                              condition))
        width = len(slots)
        columns = {
            "field_id": pick("p", [s[0] for s in slots]),
            "record_id": self.ident(CUSTOMER_PREFIX, "n"),
            "value_number": pick("p", [s[1] for s in slots]),
            "value_text": pick("p", [s[2] for s in slots]),
            "owner_id": self.owner("n"),  # as the customer's row holds it
        }
        where = " OR ".join(f"(p = {i} AND {s[3]})" for i, s in enumerate(slots))
        select = ("SELECT " + ",\n  ".join(columns.values())
                  + f"\nFROM (SELECT i / {width} AS n, i % {width} AS p FROM {SEQ}) AS s"
                  + f"\nWHERE {where}")
        return self.d.insert("custom_field_values", list(columns), width * self.N, select)

    def statements(self, indexes=()):
        """Every statement, in the order the foreign keys want, with what it writes. The
        secondary `indexes` (name, definition) are dropped first and built again from their
        definitions after the rows are in: one sorted build per index instead of millions of
        scattered inserts (the same indexes, the same names)."""
        out = [(f"drop {name}", f"DROP INDEX {name}") for name, _ in indexes]
        out += [("customers", self.customers()),
               ("contacts", self.contacts()),
               ("contact_phones", self.contact_phones())]
        if self.O and self.stages:
            out += [("opportunities", self.opportunities()),
                    ("stage_changes", self.stage_changes())]
        out.append(("activities", self.activities()))
        values = self.custom_field_values()
        if values:
            out.append(("custom_field_values", values))
        out += [(f"index {name}", definition) for name, definition in indexes]
        # The scores were computed as a whole now: the daily refresh has nothing to do today.
        refreshed = self.d.ts(self.T)
        out.append(("scoring_settings",
                    f"UPDATE scoring_settings SET scores_refreshed_at = {refreshed} WHERE id = 1"))
        return out


# ---------------------------------------------------------------------------------------------
# Running the statements
# ---------------------------------------------------------------------------------------------

def _sqlite_path(database_url):
    """The file of `sqlite:///abs/path`, `sqlite://abs/path` or `sqlite:path` (as the server reads
    them)."""
    rest = database_url[len("sqlite:"):]
    return rest[2:] if rest.startswith("//") else rest


CATALOGUE_SQL = {
    "half_life_days": "SELECT half_life_days FROM scoring_settings WHERE id = 1",
    "behaviors": "SELECT code, points FROM behaviors WHERE archived = {false} ORDER BY code",
    "lead_sources": "SELECT key FROM lead_sources WHERE archived = {false} ORDER BY position, key",
    "open_stages": ("SELECT id, probability FROM pipeline_stages WHERE pipeline_id = {pipeline}"
                    " AND kind = 'open' ORDER BY position"),
}


def _catalogue(query, dialect, context):
    """What the data refers to, as the database holds it: the behaviours' points (those of the
    context, in its order), the active lead sources, the open stages of the pipeline and the
    score half-life."""
    sql = {k: v.format(false=dialect.false, pipeline=lit(context["pipeline_id"]))
           for k, v in CATALOGUE_SQL.items()}
    points = {code: int(p) for code, p in query(sql["behaviors"])}
    return {
        "half_life_days": int(query(sql["half_life_days"])[0][0]),
        "behaviors": [(c, points[c]) for c in context.get("behaviors", []) if c in points],
        "lead_sources": [row[0] for row in query(sql["lead_sources"])],
        "open_stages": [(row[0], int(row[1])) for row in query(sql["open_stages"])],
    }


def _seed_sqlite(database_url, scale, context, now, verbose):
    db = sqlite3.connect(_sqlite_path(database_url), isolation_level=None, timeout=60)
    try:
        # The file is this connection's alone while it is written: its rollback journal is kept
        # in memory and nothing waits for the disk. In WAL mode every page was written twice
        # (the log, then the checkpoint): at 1M customers 7.9 GB each time, and a commit of
        # about 100 s. The file goes back to WAL, as the server wants it, at the end.
        db.execute("PRAGMA locking_mode = EXCLUSIVE")
        mode = db.execute("PRAGMA journal_mode = MEMORY").fetchone()[0]
        if mode != "memory":
            raise RuntimeError(f"{database_url} is in use: stop its server before seeding")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -2000000")  # 2 GB: the indexes stay in memory
        db.execute("PRAGMA temp_store = MEMORY")
        try:
            db.execute("SELECT pow(0.5, 2)")
        except sqlite3.OperationalError:  # an SQLite built without its math functions
            db.create_function("pow", 2, math.pow, deterministic=True)
        dialect = _Sqlite()
        catalogue = _catalogue(lambda sql: db.execute(sql).fetchall(), dialect, context)
        plan = _Plan(dialect, scale, context, catalogue, now)
        counts = {}
        db.execute("BEGIN IMMEDIATE")
        try:
            for name, sql in plan.statements():
                started = time.monotonic()
                db.execute(sql)
                # Rows the statement itself wrote (not those of the search index triggers).
                counts[name] = db.execute("SELECT changes()").fetchone()[0]
                if verbose:
                    print(f"  {name}: {counts[name]:,} rows, {time.monotonic() - started:.1f} s",
                          file=sys.stderr)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        started = time.monotonic()
        db.execute("ANALYZE")
        if verbose:
            print(f"  ANALYZE: {time.monotonic() - started:.1f} s", file=sys.stderr)
        db.execute("PRAGMA journal_mode = WAL")
        return counts
    finally:
        db.close()


def _psql(database_url, sql=None, script=None):
    """psql's output of a command or a script (stopping at the first error)."""
    args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", database_url]
    if sql is not None:
        args += ["-A", "-t", "-F", "\t", "-c", sql]
    done = subprocess.run(args, input=script, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()[:2000]}")
    return done.stdout


def _seed_postgres(database_url, scale, context, now, verbose):
    dialect = _Postgres()
    def query(sql):
        return [line.split("\t") for line in _psql(database_url, sql).splitlines() if line]

    catalogue = _catalogue(query, dialect, context)
    plan = _Plan(dialect, scale, context, catalogue, now)
    statements = plan.statements(dialect.secondary_indexes(query))
    # One transaction; each statement echoes its name and row count (psql's command tag). The
    # dropped indexes lock the seeded tables until the commit: the app's requests wait for it.
    script = ["BEGIN;", "SET LOCAL synchronous_commit = off;", "SET LOCAL work_mem = '256MB';",
              "SET LOCAL maintenance_work_mem = '1GB';", "\\timing on"]
    if query("SELECT current_setting('is_superuser')")[0][0] == "on":
        # The rows meet the foreign keys by construction: skip checking them row by row (the
        # seeded tables have no other triggers). The self-check verifies them as a whole.
        script.insert(1, "SET LOCAL session_replication_role = replica;")
    for name, sql in statements:
        script += [f"\\echo @@ {name}", "\\set QUIET off", sql + ";", "\\set QUIET on"]
    # VACUUM as autovacuum would soon after a bulk load: it sets the visibility map, without
    # which index-only scans fetch every heap row.
    script += ["\\echo @@ COMMIT", "COMMIT;", "\\echo @@ VACUUM ANALYZE", "VACUUM ANALYZE;"]
    out = _psql(database_url, script="\n".join(script) + "\n")
    counts, name = {}, None
    for line in out.splitlines():
        if line.startswith("@@ "):
            name = line[3:]
        elif name and (line.startswith("INSERT ") or line.startswith("UPDATE ")):
            counts[name] = int(line.split()[-1])
        elif verbose and name and line.startswith("Time:"):
            print(f"  {name}: {counts.get(name, '-')} rows, {line}", file=sys.stderr)
    return counts


def seed(database_url, scale, context):
    """Writes the data set (see the module's description) into the migrated database at
    `database_url` (`sqlite:///abs/path.db` or `postgres://user@host:port/db`), which must not
    hold seeded rows yet, in one transaction, then runs ANALYZE (PostgreSQL: VACUUM ANALYZE).
    Returns what it wrote and how long it took."""
    started = time.monotonic()
    verbose = bool(os.environ.get("SEED_VERBOSE"))
    customers = scale["customers"]
    if customers <= 0:
        raise ValueError("seed needs at least one customer")
    if scale.get("contacts", 2 * customers) != 2 * customers or \
            scale.get("activities", 3 * customers) != 3 * customers:
        raise ValueError("seed writes 2 contacts and 3 activities per customer")
    now = time.time()
    if database_url.startswith(("postgres://", "postgresql://")):
        counts = _seed_postgres(database_url, scale, context, now, verbose)
    elif database_url.startswith("sqlite:"):
        counts = _seed_sqlite(database_url, scale, context, now, verbose)
    else:
        raise ValueError(f"unsupported database URL: {database_url}")
    return {
        "customers": counts.get("customers", 0),
        "contacts": counts.get("contacts", 0),
        "activities": counts.get("activities", 0),
        "opportunities": counts.get("opportunities", 0),
        "custom_field_values": counts.get("custom_field_values", 0),
        "contact_phones": counts.get("contact_phones", 0),
        "stage_changes": counts.get("stage_changes", 0),
        "seconds": round(time.monotonic() - started, 2),
    }


# ---------------------------------------------------------------------------------------------
# Self-check: seed a fresh database behind a fresh server and read the data back through the API
# ---------------------------------------------------------------------------------------------

ADMIN_EMAIL = "bench@example.com"
ADMIN_PASSWORD = "bench-password-0123"
JWT_SECRET = "bench-signing-secret-0123456789abcdef"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _login(base, email, password):
    return call(base, "POST", "/api/v1/auth/login", body={"email": email, "password": password})[
        "access_token"]


def _expect(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"  ok  {what}")


def _check(base, admin, context, scale):
    """Reads seeded data back through the API as rep 0 (and a few things as the admin)."""
    reps = context["reps"]
    R = len(reps)
    rep0 = reps[0]
    token = _login(base, rep0["email"], rep0["password"])
    other = _login(base, reps[1]["email"], reps[1]["password"]) if R > 1 else None
    get = lambda path, t=token: call(base, "GET", path, t)  # noqa: E731

    # Customer 0: rep 0's first customer, a prospect, with two behaviours recorded.
    mine = customer_id(0)
    customer = get(f"/api/v1/customers/{mine}")
    _expect(customer["name"] == "Customer 0" and customer["owner_id"] == rep0["id"],
            f"GET /api/v1/customers/{mine}: Customer 0, owned by rep0")
    _expect(customer["phone_e164"] == "+8613800000000" and customer["status"] == "prospect"
            and customer["custom_fields"].get("cf_00") in context["fields"][0]["options"],
            "its phone, status and custom fields read back")
    overview = get(f"/api/v1/customers/{mine}/overview")
    _expect(len(overview["contacts"]) == 2 and overview["contacts"][0]["primary"]
            and len(overview["timeline"]) == 3 and len(overview["open_opportunities"]) == 1,
            "GET …/overview: 2 contacts (primary first), 3 activities, 1 open opportunity")
    score = get(f"/api/v1/customers/{mine}/score")
    _expect(score["total"] == customer["score"] and len(score["breakdown"]) == 2,
            f"GET …/score: {score['total']} from 2 behaviours, the stored score")
    if other:
        try:
            get(f"/api/v1/customers/{mine}", other)
            _expect(False, "rep1 cannot see rep0's customer")
        except ApiError as e:
            _expect(e.status == 404, "rep1 cannot see rep0's customer (404)")

    # Lists: by owner and status, by custom field, the pool.
    page = get(f"/api/v1/customers?owner_id={rep0['id']}&status=prospect&limit=50")
    _expect(len(page["items"]) == 50
            and all(c["status"] == "prospect" and c["owner_id"] == rep0["id"]
                    for c in page["items"]),
            "GET /api/v1/customers?owner_id=<rep0>&status=prospect&limit=50: 50 items")
    value = context["fields"][0]["options"][3]
    query = f"cf.cf_00={value}&limit=50"
    page = get(f"/api/v1/customers?{query}")
    _expect(page["items"] and all(c["custom_fields"]["cf_00"] == value for c in page["items"]),
            f"GET /api/v1/customers?{query}: {len(page['items'])} items, all {value}")
    page = get(f"/api/v1/customers?{query}&owner_id={rep0['id']}")
    _expect(page["items"], f"… and of rep0 alone: {len(page['items'])} items")
    number = context["fields"][1]["key"]
    page = get(f"/api/v1/customers?cf.{number}[gte]=4000&sort=-cf.{number}&limit=20")
    _expect(page["items"] and all(c["custom_fields"][number] >= 4000 for c in page["items"]),
            f"GET /api/v1/customers?cf.{number}[gte]=4000&sort=-cf.{number}:"
            f" {len(page['items'])} items")
    pooled = customer_id(19 * R)
    customer = get(f"/api/v1/customers/{pooled}")
    _expect(customer["owner_id"] is None, f"GET /api/v1/customers/{pooled} (pool): 200, no owner")
    if other:
        _expect(get(f"/api/v1/customers/{pooled}", other)["owner_id"] is None,
                "… and rep1 sees it too")
    page = get("/api/v1/customers?pool=true&limit=50")
    _expect(page["items"] and all(c["owner_id"] is None for c in page["items"]),
            f"GET /api/v1/customers?pool=true: {len(page['items'])} pool customers")
    page = call(base, "GET", "/api/v1/customers?q=Customer%201234&limit=50", admin)
    _expect(any(c["id"] == customer_id(1234) for c in page["items"]) or scale["customers"] <= 1234,
            "GET /api/v1/customers?q=Customer 1234 (the search index) finds customer 1234")

    # Follow-ups due today, the opportunity.
    page = get("/api/v1/follow-ups?due=today&limit=200")
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    _expect(page["items"] and all(f["owner_id"] == rep0["id"] and f["due_at"].startswith(today)
                                  for f in page["items"]),
            f"GET /api/v1/follow-ups?due=today: {len(page['items'])} of rep0's, due {today}")
    page = get("/api/v1/follow-ups?due=overdue&limit=5")
    _expect(page["items"] and all(f["state"] == "overdue" for f in page["items"]),
            "GET /api/v1/follow-ups?due=overdue: overdue ones")
    deal = get(f"/api/v1/opportunities/{opportunity_id(0)}")
    _expect(deal["customer_id"] == mine and deal["owner_id"] == rep0["id"]
            and deal["stage_id"] in context["stage_ids"] and deal["status"] == "open",
            f"GET /api/v1/opportunities/{opportunity_id(0)}: open, rep0's, customer 0's")
    history = get(f"/api/v1/opportunities/{opportunity_id(0)}/history")
    _expect(history is not None, "GET …/history answers")

    # Normalised points match what the app computes from other spellings.
    try:
        call(base, "POST", "/api/v1/customers", admin,
             {"kind": "company", "name": "Duplicate check", "phone": "+86 138-0000-0005"})
        _expect(False, "a customer with customer 5's phone is refused")
    except ApiError as e:
        existing = json.loads(e.body).get("existing_id")
        _expect(e.status == 409 and existing == customer_id(5),
                "POST a customer with +86 138-0000-0005: 409 duplicate of customer 5")
    page = call(base, "GET", "/api/v1/contacts?phone=0086%20137%200000%200006", admin)
    _expect([c["id"] for c in page["items"]] == [contact_id(6)],
            "GET /api/v1/contacts?phone=0086 137 0000 0006: contact 6 (via contact_phones)")
    page = call(base, "GET", "/api/v1/contacts?email=contact7@seed.example.com", admin)
    _expect([c["id"] for c in page["items"]] == [contact_id(7)],
            "GET /api/v1/contacts?email=contact7@…: contact 7 (typed Contact7@Seed.Example.com)")


def _index_definitions(url):
    """Every index of the database with its definition."""
    if url.startswith("sqlite:"):
        db = sqlite3.connect(_sqlite_path(url))
        rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                          " ORDER BY name").fetchall()
        db.close()
        return rows
    return _psql(url, "SELECT indexname, indexdef FROM pg_indexes"
                      " WHERE schemaname = current_schema() ORDER BY indexname")


def _check_foreign_keys(url):
    """Every foreign key of the database holds (checked as a whole, not row by row)."""
    if url.startswith("sqlite:"):
        db = sqlite3.connect(_sqlite_path(url))
        broken = db.execute("PRAGMA foreign_key_check").fetchall()
        db.close()
        _expect(not broken, f"PRAGMA foreign_key_check: {len(broken)} violations")
        return
    keys = [line.split("\t") for line in _psql(url, (
        "SELECT conrelid::regclass, a.attname, confrelid::regclass, af.attname FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]"
        " WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1")).splitlines() if line]
    counts = " UNION ALL ".join(
        f"SELECT count(*) FROM {t} WHERE {col} IS NOT NULL AND NOT EXISTS"
        f" (SELECT 1 FROM {ref} WHERE {ref}.{ref_col} = {t}.{col})"
        for t, col, ref, ref_col in keys)
    broken = sum(int(n) for n in _psql(url, counts).split())
    _expect(broken == 0, f"{len(keys)} foreign keys hold: {broken} violations")


def main():
    parser = argparse.ArgumentParser(
        description="Seeds a fresh database and checks the API serves it.")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--postgres", metavar="SERVER_URL",
                        help="a PostgreSQL server, e.g. "
                             "postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "crm"))
    parser.add_argument("--no-check", action="store_true", help="seed and time only")
    parser.add_argument("--keep", action="store_true",
                        help="keep the seeded database (for EXPLAIN and profiling) and print its URL")
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "crm-server"], cwd=ROOT,
                       check=True)
    work = tempfile.mkdtemp(prefix="crm-seed-check-")
    database = None
    if args.postgres:
        database = f"crm_seed_check_{os.getpid()}"
        server_url = args.postgres
        _psql(server_url, f"DROP DATABASE IF EXISTS {database}")
        _psql(server_url, f"CREATE DATABASE {database}")
        url = server_url.rsplit("/", 1)[0] + "/" + database
    else:
        url = f"sqlite://{work}/crm.db"
    env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn", CRM_ADMIN_EMAIL=ADMIN_EMAIL,
               CRM_ADMIN_PASSWORD=ADMIN_PASSWORD, CRM_JWT_SECRET=JWT_SECRET)
    server = None
    try:
        subprocess.run([args.binary, "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(os.path.join(work, "server.log"), "w")

        def serve():
            process = subprocess.Popen(
                [args.binary, "serve", "--bind", f"127.0.0.1:{port}"], env=env,
                stdout=subprocess.DEVNULL, stderr=log)
            for _ in range(400):
                try:
                    urllib.request.urlopen(f"{base}/readyz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.05)
            return process

        server = serve()
        admin = _login(base, ADMIN_EMAIL, ADMIN_PASSWORD)
        scale = default_scale(args.customers)
        started = time.monotonic()
        context = setup(base, admin, scale)
        setup_s = time.monotonic() - started
        indexes = _index_definitions(url)
        # A SQLite file is written by the seed alone; the server reads it afterwards.
        server.terminate()
        server.wait()
        facts = seed(url, scale, context)
        server = serve()
        print(json.dumps({"backend": url.split(":")[0], "setup_s": round(setup_s, 2), **facts}))
        if not args.no_check:
            _expect(_index_definitions(url) == indexes,
                    "the indexes are those of the schema, by name and definition")
            _check_foreign_keys(url)
            _check(base, admin, context, scale)
            print("all checks passed")
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        if args.keep:
            print(f"kept: DATABASE_URL={url}")
            return
        if database:
            _psql(args.postgres, f"DROP DATABASE IF EXISTS {database}")
        for name in ("crm.db", "crm.db-wal", "crm.db-shm", "server.log"):
            path = os.path.join(work, name)
            if os.path.exists(path):
                os.remove(path)
        os.rmdir(work)


if __name__ == "__main__":
    sys.exit(main())
