"""kamctl agenda: the right items for a hand-made workspace at a fixed --as-of, in table, JSON and
iCalendar (parsed back with the real icalendar library), with stable UIDs and escaped text."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from icalendar import Calendar

AS_OF = "2026-06-01"  # window 2026-06-01 .. 2026-06-15 with the default 14 days

ACME = """\
name: Acme Corp
owner: {name: Dana Reyes, role: farmer}
plan:
  year: 2026
  objectives:
    - title: Preferred supplier
      strategies:
        - title: Prove the film
          tactics:
            - {title: Trial on line 4, owner: Lena Ortiz, due: 2026-06-10, status: in_progress}
            - {title: Already done, owner: Lena Ortiz, due: 2026-06-05, status: done}
            - {title: Overdue one, owner: Lena Ortiz, due: 2026-05-31}
            - {title: Too late for the window, due: 2026-06-16}
            - {title: Last day of the window, due: 2026-06-15}
            - {title: Dropped one, due: 2026-06-04, status: dropped}
decision_makers:
  - {id: kweber, name: Katrin Weber, title: COO, counterpart: Marco Rossi, last_contact: 2026-03-05}
  - {id: jnovak, name: Jan Novak, last_contact: 2026-03-01}
  - {name: Never Met}
opportunities:
  - id: film
    title: Ready-meal film
    value: 1200000
    stage: pursuit
    close: 2026-06-12
    history: [{stage: pursuit, date: 2026-04-20}]
  - id: trays
    title: Trays
    stage: qualification
    close: 2026-09-30
    history: [{stage: qualification, date: 2026-04-25}]
  - id: won
    title: Won deal
    stage: contract
    close: 2026-06-05
    history: [{stage: contract, date: 2026-05-01}]
performance:
  surveys:
    - {date: 2024-06-01, score: 3.5}
    - {date: 2025-06-08, score: 4.0}
"""

BETA = """\
name: "Beta, Inc; \\"Ltd\\"\\e[31m"
owner: {name: Sam Lee}
plan:
  objectives:
    - title: Grow
      strategies:
        - title: Meet
          tactics:
            - {title: "Call back; ask, then\\nwrite it up", owner: Sam Lee, due: 2026-06-02}
"""

EXPECTED = [  # (date, kind, account, owner, ref) soonest first
    ("2026-06-02", "tactic", "beta", "Sam Lee", "call-back-ask-then-write-it-up"),
    ("2026-06-03", "contact", "acme", "Marco Rossi", "kweber"),  # 2026-03-05 + 90 days (contact_days)
    ("2026-06-08", "survey", "acme", "Dana Reyes", "survey"),  # latest 2025-06-08 + 365 days (survey_days)
    ("2026-06-09", "stale", "acme", "Dana Reyes", "trays-qualification"),  # 2026-04-25 + 45 (qualification)
    ("2026-06-10", "tactic", "acme", "Lena Ortiz", "trial-on-line-4"),
    ("2026-06-12", "close", "acme", "Dana Reyes", "film"),  # its stale day, 04-20 + 60 = 06-19, is outside
    ("2026-06-15", "tactic", "acme", "Dana Reyes", "last-day-of-the-window"),  # no owner: the account's
]


@pytest.fixture
def ws(workspace):
    return workspace({"acme": ACME, "beta": BETA})


def ics_bytes(kamctl, ws, *args: str) -> bytes:
    """The calendar as written, byte for byte (through --out: the test runner's stdout turns CRLF to LF)."""
    target = ws.parent / "agenda.ics"
    result = kamctl("agenda", "--format", "ics", "--out", target, *args, ws=ws)
    assert result.exit_code == 0, result
    return target.read_bytes()


def events(ics: bytes) -> list:
    cal = Calendar.from_ical(ics)
    return [c for c in cal.walk() if c.name == "VEVENT"]


def test_agenda_ics_parses_with_icalendar_and_lists_the_right_items(kamctl, ws):
    raw = ics_bytes(kamctl, ws, "--as-of", AS_OF)
    cal = Calendar.from_ical(raw)
    assert (str(cal["VERSION"]), str(cal["PRODID"])) == ("2.0", "-//kamctl//agenda//EN")
    found = events(raw)
    assert [(e.decoded("DTSTART").isoformat(), str(e["CATEGORIES"].cats[0]), str(e["UID"])) for e in found] == [
        (day, kind, f"{kind}.{ref}.{account}@kamctl") for day, kind, account, _, ref in EXPECTED]
    for e in found:  # all-day events of one day, stamped with --as-of
        assert e.decoded("DTEND") - e.decoded("DTSTART") == dt.timedelta(days=1)
        assert isinstance(e.decoded("DTSTART"), dt.date) and not isinstance(e.decoded("DTSTART"), dt.datetime)
        assert e.decoded("DTSTAMP") == dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    assert str(found[1]["SUMMARY"]) == "Acme Corp: contact Katrin Weber (COO) (last 2026-03-05; cold after 90 days)"
    assert "Owner: Marco Rossi" in str(found[1]["DESCRIPTION"])
    assert str(found[5]["SUMMARY"]) == "Acme Corp: expected close: Ready-meal film (pursuit, 1,200,000 EUR)"
    # RFC 5545: CRLF line ends, no line longer than 75 octets
    assert raw.endswith(b"END:VCALENDAR\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 75


def test_agenda_table_and_json_list_the_same_items(kamctl, ws):
    data = json.loads(kamctl("agenda", "--as-of", AS_OF, "--format", "json", ws=ws).stdout)
    assert [(d["date"], d["kind"], d["account"], d["owner"]) for d in data] == [e[:4] for e in EXPECTED]
    assert set(data[0]) == {"date", "kind", "account", "name", "what", "owner"}
    table = kamctl("agenda", "--as-of", AS_OF, ws=ws)
    assert table.exit_code == 0
    assert "Agenda 2026-06-01 to 2026-06-15 (7)" in table.stdout
    assert [line.split()[0] for line in table.stdout.splitlines() if line[:4] == "2026"] == [e[0] for e in EXPECTED]
    assert "\x1b" not in table.stdout  # the ESC in beta's name is shown as an escape


def test_days_widens_the_window_and_zero_is_today_only(kamctl, ws):
    wide = json.loads(kamctl("agenda", "--as-of", AS_OF, "--days", "18", "--format", "json", ws=ws).stdout)
    assert ("2026-06-16", "tactic") in [(d["date"], d["kind"]) for d in wide]
    assert ("2026-06-19", "stale") in [(d["date"], d["kind"]) for d in wide]
    today = json.loads(kamctl("agenda", "--as-of", "2026-06-03", "--days", "0", "--format", "json", ws=ws).stdout)
    assert [(d["date"], d["kind"]) for d in today] == [("2026-06-03", "contact")]
    bad = kamctl("agenda", "--days", "-1", ws=ws)
    assert bad.exit_code == 2


def test_owner_keeps_the_items_a_person_owns_or_whose_account_they_own(kamctl, ws):
    def kinds(owner: str) -> list:
        out = kamctl("agenda", "--as-of", AS_OF, "--owner", owner, "--format", "json", ws=ws).stdout
        return [(d["date"], d["account"]) for d in json.loads(out)]

    assert kinds("lena  ORTIZ") == [("2026-06-10", "acme")]
    assert kinds("Marco Rossi") == [("2026-06-03", "acme")]
    assert kinds("Dana Reyes") == [(e[0], e[2]) for e in EXPECTED if e[2] == "acme"]  # the account owner: all
    assert kinds("Nobody") == []


def test_plan_year_end_is_an_item(kamctl, ws):
    data = json.loads(kamctl("agenda", "--as-of", "2026-12-20", "--format", "json", ws=ws).stdout)
    assert [(d["date"], d["kind"], d["what"]) for d in data if d["kind"] == "plan"] == [
        ("2026-12-31", "plan", "plan year 2026 ends: write the 2027 plan")]


def test_uids_stay_when_an_item_moves_so_a_calendar_updates_it(kamctl, ws):
    before = {str(e["UID"]): e.decoded("DTSTART")
              for e in events(kamctl("agenda", "--as-of", AS_OF, "--format", "ics", ws=ws).stdout.encode())}
    path = ws / "accounts" / "acme.yaml"
    path.write_text(path.read_text().replace("due: 2026-06-10, status: in_progress",
                                             "due: 2026-06-11, status: planned"))
    after = {str(e["UID"]): e.decoded("DTSTART")
             for e in events(kamctl("agenda", "--as-of", AS_OF, "--format", "ics", ws=ws).stdout.encode())}
    uid = "tactic.trial-on-line-4.acme@kamctl"
    assert set(before) == set(after)
    assert (before[uid], after[uid]) == (dt.date(2026, 6, 10), dt.date(2026, 6, 11))


def test_two_tactics_with_one_title_get_distinct_uids(workspace, kamctl):
    text = ACME.replace("Last day of the window", "Trial on line 4")
    ws = workspace({"acme": text})
    uids = [str(e["UID"]) for e in events(kamctl("agenda", "--as-of", AS_OF, "--format", "ics", ws=ws).stdout.encode())]
    assert len(uids) == len(set(uids))
    assert "tactic.trial-on-line-4-2.acme@kamctl" in uids


def test_ics_escapes_commas_semicolons_newlines_and_control_characters(kamctl, ws):
    raw = ics_bytes(kamctl, ws, "--as-of", AS_OF)
    assert b"\x1b" not in raw and b"\r\n " in raw  # ESC never written; long lines folded
    unfolded = raw.replace(b"\r\n ", b"")
    summary = next(line for line in unfolded.split(b"\r\n") if line.startswith(b"SUMMARY:Beta"))
    assert summary == (b'SUMMARY:Beta\\, Inc\\; "Ltd"\\\\x1b[31m: tactic: Call back\\; ask\\, then\\nwrite it up '
                       b"(planned)")
    event = events(raw)[0]
    assert str(event["SUMMARY"]) == 'Beta, Inc; "Ltd"\\x1b[31m: tactic: Call back; ask, then\nwrite it up (planned)'


def test_the_agenda_days_are_the_last_before_the_rules_fire(kamctl, ws):
    """An item's day is the last one `check` stays quiet: KAM404 (contact), KAM601 (survey) and
    KAM305 (tactic) speak the day after, and pipeline.stale_by counts the opportunity stale then."""
    from kamctl.model.account import Account
    from kamctl.model.settings import Settings
    from kamctl.pipeline import stale_by
    import yaml

    def fired(rule: str, day: str, about: str) -> bool:
        out = kamctl("check", "acme", "--as-of", day, "--select", rule, "--format", "json", ws=ws).stdout
        return any(f["rule"] == rule and about in f["message"] for f in json.loads(out)["findings"])

    for rule, day, after, about in [("KAM404", "2026-06-03", "2026-06-04", "Katrin Weber"),
                                    ("KAM601", "2026-06-08", "2026-06-09", "2025-06-08"),
                                    ("KAM305", "2026-06-10", "2026-06-11", "Trial on line 4")]:
        assert (fired(rule, day, about), fired(rule, after, about)) == (False, True), rule
    trays = Account.model_validate(yaml.safe_load(ACME)).opportunity("trays")
    assert stale_by(trays, Settings(), dt.date(2026, 6, 9)) is None
    assert stale_by(trays, Settings(), dt.date(2026, 6, 10)) == 1


def test_ics_on_stdout_is_the_same_calendar(kamctl, ws):
    stdout = kamctl("agenda", "--as-of", AS_OF, "--format", "ics", ws=ws).stdout.encode()
    assert stdout.replace(b"\n", b"\r\n") == ics_bytes(kamctl, ws, "--as-of", AS_OF)
    assert kamctl("agenda", "--out", ws.parent / "x.txt", ws=ws).exit_code == 2  # --out is for ics
