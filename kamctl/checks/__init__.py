"""Check rules: small functions (account, context) -> findings, with stable codes; the one rule registry.

RULE_MODULES lists every module of check rules (as yamllint's rules/__init__.py does); RULES
(every rule by code: loading rules from kamctl.rules, then check rules), CHECKS (code -> (rule,
function)) and ALERTS (codes of early-warning alerts) are built from it once, at import.

`run` checks a loaded workspace: the reading and schema findings of loading (KAM0xx, KAM1xx,
always reported) plus every check rule (KAM2xx and up) on each valid account, after kam.yaml's
policy (checks.rules, checks.quadrants: which rules run, and their severity) and the caller's
select/ignore. It also measures how
complete each account's plan is. Nothing here prints or exits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from kamctl.checks import level, opportunities, performance, plan, relationships, selection, staleness, strategy
from kamctl.checks import whitespace
from kamctl.checks.registry import CheckFn, Context, checks_in
from kamctl.findings import Finding, Severity, sort_key
from kamctl.model.account import AGENDA, CHARTER, FIVE_QUESTIONS, PAST_GATE, filled
from kamctl.rules import LOADING_RULES, Rule
from kamctl.scoring import Summary, summarise
from kamctl.checks.plan import TACTIC_NEEDS
from kamctl.checks.opportunities import decided

RULE_MODULES = (strategy, plan, relationships, opportunities, performance, level, staleness, selection, whitespace)


def _registry() -> tuple[dict[str, Rule], dict[str, tuple[Rule, CheckFn]], frozenset[str]]:
    rules: dict[str, Rule] = {}
    checks: dict[str, tuple[Rule, CheckFn]] = {}
    alerts = set()
    found = [(r, None, False) for r in LOADING_RULES] + [c for m in RULE_MODULES for c in checks_in(m)]
    for rule, fn, alert in found:
        if rule.code in rules:
            raise ValueError(f"rule {rule.code} declared twice")
        rules[rule.code] = rule
        if fn is not None:
            checks[rule.code] = (rule, fn)
        if alert:
            alerts.add(rule.code)
    return rules, checks, frozenset(alerts)


RULES, CHECKS, ALERTS = _registry()


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    completeness: dict[str, dict[str, float]] = field(default_factory=dict)


# --- codes and patterns -----------------------------------------------------------------------------


def split_codes(values: Iterable[str] | str | None) -> list[str]:
    """'KAM2,KAM401' or ['KAM2', 'KAM401'] -> ['KAM2', 'KAM401'] (upper-cased, blanks dropped)."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [p.strip().upper() for v in values for p in v.split(",") if p.strip()]


def matches(code: str, patterns: Iterable[str]) -> bool:
    """A pattern is a code or a code prefix (KAM2 = every KAM2xx rule, like ruff's selectors)."""
    return any(code.startswith(p) for p in patterns)


def unknown_codes(patterns: Iterable[str]) -> list[str]:
    """Patterns that match no registered rule (so a typo in --select is a usage error)."""
    return [p for p in patterns if not any(code.startswith(p) for code in RULES)]


def policy_problems(settings: Any) -> list[str]:
    """Codes in kam.yaml's checks.rules / checks.quadrants that match no rule, and patterns given
    two severities in one quadrant."""
    checks = settings.checks
    out = [f"checks.rules: no rule matches {c}" for c in unknown_codes(list(checks.rules))]
    for key, pol in checks.quadrants.items():
        for name in ("ignore", "select", *(s.value for s in Severity)):
            out += [f"checks.quadrants.{key}.{name}: no rule matches {c}"
                    for c in unknown_codes(split_codes(getattr(pol, name)))]
        seen: dict[str, str] = {}
        for sev in Severity:
            for pattern in split_codes(getattr(pol, sev.value)):
                if seen.setdefault(pattern, sev.value) != sev.value:
                    out.append(f"checks.quadrants.{key}: {pattern} is both {seen[pattern]} and {sev.value}")
    return out


def _longest(code: str, pairs: Iterable[tuple[str, Any]]) -> Any:
    """The value of the longest pattern (code or prefix) matching code, or None."""
    best = None
    for pattern, value in pairs:
        if code.startswith(pattern) and (best is None or len(pattern) > len(best[0])):
            best = (pattern, value)
    return best[1] if best else None


def _rule_setting(settings: Any, code: str) -> str | None:
    """kam.yaml checks.rules for a code: the longest matching code or prefix wins."""
    return _longest(code, ((p.upper(), v) for p, v in settings.checks.rules.items()))


def _quadrant_severity(settings: Any, quadrant: str, code: str) -> str | None:
    """The severity kam.yaml's checks.quadrants.QUADRANT error/warning/info gives a code, or None."""
    pol = settings.checks.quadrants.get(quadrant)
    if pol is None:
        return None
    return _longest(code, ((p, s.value) for s in Severity for p in split_codes(getattr(pol, s.value))))


def severity_setting(settings: Any, quadrant: str, code: str) -> str | None:
    """What kam.yaml sets for a rule in a quadrant: the quadrant's severity lists, else checks.rules
    (a severity or `off`), else None (the rule's default)."""
    return _quadrant_severity(settings, quadrant, code) or _rule_setting(settings, code)


def _enabled(code: str, quadrant: str, settings: Any, select: list[str], ignore: list[str]) -> bool:
    if select and not matches(code, select):
        return False
    if ignore and matches(code, ignore):
        return False
    pol = settings.checks.quadrants.get(quadrant)
    if pol is not None:
        if pol.select and not matches(code, split_codes(pol.select)):
            return False
        if matches(code, split_codes(pol.ignore)):
            return False
    return severity_setting(settings, quadrant, code) != "off"


# --- running the rules -------------------------------------------------------------------------------


class _Bare:
    """An Account outside a file (no positions): what the rules see when given a model only."""

    def __init__(self, account: Any, account_id: str | None = None) -> None:
        self.id = account_id or ""
        self.path = f"accounts/{self.id}.yaml" if account_id else "(account)"
        self.account = account
        self.positions: dict = {}

    def position(self, loc: Iterable[Any]) -> tuple[int, int]:
        return (1, 1)


def _active(quadrant: str, settings: Any, select: list[str], ignore: list[str],
            wanted: set[str] | None, cache: dict) -> list[tuple[Any, Any, str | None]]:
    """(rule, function, severity set in kam.yaml for the quadrant) of every enabled rule for a quadrant; worked out
    once per run (cache) rather than per account and rule."""
    key = ("kamctl.checks.active", id(settings), quadrant, tuple(select), tuple(ignore),
           None if wanted is None else tuple(sorted(wanted)))
    hit = cache.get(key)
    if hit is not None and hit[0] is settings:
        return hit[1]
    out = [(rule, fn, severity_setting(settings, quadrant, rule.code)) for rule, fn in CHECKS.values()
           if (wanted is None or rule.code in wanted) and _enabled(rule.code, quadrant, settings, select, ignore)]
    cache[key] = (settings, out)
    return out


def check_account(loaded: Any, settings: Any, as_of: dt.date, root: Path | None = None,
                  select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
                  codes: Iterable[str] | None = None, cache: dict | None = None,
                  summary: Summary | None = None) -> list[Finding]:
    """Every enabled check rule on one valid loaded account (codes: only these rules; summary: its
    scores when the caller has them already)."""
    select, ignore = split_codes(select), split_codes(ignore)
    cache = cache if cache is not None else {}
    summary = summary or summarise(loaded.id, loaded.account, settings)
    ctx = Context(settings, as_of, Path(root) if root else Path("."), summary, cache)
    quadrant = summary.score.quadrant_key
    wanted = set(codes) if codes is not None else None
    out: list[Finding] = []
    for rule, fn, configured in _active(quadrant, settings, select, ignore, wanted, cache):
        for item in fn(loaded, ctx) or ():
            loc, message = item[0], item[1]
            severity = Severity(configured) if configured else (
                Severity(item[2]) if len(item) > 2 and item[2] else rule.severity)
            line, col = loaded.position(loc)
            out.append(Finding(rule.code, severity, loaded.path, line, col, message, loaded.id or None))
    return out


_PROCESS_CACHE: dict = {}  # Checker.cache in a worker process: one per process, not per chunk of files


class Checker:
    """The check of one account (findings and completeness) with fixed settings, date and options.

    Picklable, so that load_workspace's worker processes can check each account right after parsing
    it (while its model and positions are at hand) and send back only the results.
    """

    def __init__(self, settings: Any, as_of: dt.date, root: Path, select: Iterable[str] | None = None,
                 ignore: Iterable[str] | None = None) -> None:
        self.settings, self.as_of, self.root = settings, as_of, Path(root)
        self.select, self.ignore = split_codes(select), split_codes(ignore)
        self.token = id(self)
        self.cache: dict | None = {}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["cache"] = None  # a worker uses its process-wide one
        return state

    def __call__(self, loaded: Any) -> tuple[list[Finding], dict[str, float]]:
        cache = self.cache
        if cache is None:
            cache = _PROCESS_CACHE.setdefault(self.token, {})
        found = check_account(loaded, self.settings, self.as_of, self.root, self.select, self.ignore, cache=cache)
        return found, account_completeness(loaded.account, self.settings, self.as_of)


def check_each(workspace: Any, as_of: dt.date, select: Iterable[str] | None = None,
               ignore: Iterable[str] | None = None,
               checker: Checker | None = None) -> Iterable[tuple[Any, list[Finding], dict[str, float]]]:
    """(loaded account, its check findings, its completeness) for each valid account, in order.

    An account that load_workspace(checker=...) already checked (in a worker) is not checked again.
    """
    if checker is None:
        checker = Checker(workspace.settings, as_of, workspace.root, select, ignore)
    for loaded in workspace.accounts:
        done = getattr(loaded, "checked", None)
        if done is not None:
            yield loaded, done[0], done[1]
            continue
        if loaded.account is None:
            continue
        found, complete = checker(loaded)
        yield loaded, found, complete


def run(workspace: Any, as_of: dt.date, select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None) -> CheckResult:
    """Check a loaded workspace (kamctl.loader.load_workspace) at as_of."""
    findings = list(workspace.findings)
    completeness: dict[str, dict[str, float]] = {}
    for loaded, found, complete in check_each(workspace, as_of, select, ignore):
        findings.extend(found)
        completeness[loaded.id] = complete
    findings.sort(key=sort_key)
    return CheckResult(findings, completeness)


def top_rules(pairs: dict[tuple[str, Severity], int], n: int = 3) -> list[tuple[Rule, int, Severity]]:
    """The rules to look at first: (rule, how many findings, the most severe of them), from the
    findings' tally ((rule, severity) -> how many: kamctl.formats.tally). The most severe first
    (errors fail a check), then the most frequent, then by code."""
    counts: dict[str, int] = {}
    worst: dict[str, Severity] = {}
    for (rule, severity), k in pairs.items():
        counts[rule] = counts.get(rule, 0) + k
        if rule not in worst or severity.rank > worst[rule].rank:
            worst[rule] = severity
    order = sorted((c for c in counts if c in RULES), key=lambda c: (-worst[c].rank, -counts[c], c))
    return [(RULES[c], counts[c], worst[c]) for c in order[:n]]


def alerts(loaded_account: Any, settings: Any, as_of: dt.date, summary: Summary | None = None) -> list[Finding]:
    """The early-warning alerts of one account: computed ones plus unresolved manual alerts.

    Takes a LoadedAccount (findings point at lines) or a bare Account model. kam.yaml's policy
    applies (a rule set off gives no alert). kamctl.assessment calls this once per account and run.
    """
    loaded = loaded_account if hasattr(loaded_account, "positions") else _Bare(loaded_account)
    if loaded.account is None:
        return []
    found = check_account(loaded, settings, as_of, codes=ALERTS, summary=summary)
    return sorted(found, key=sort_key)


# --- completeness -------------------------------------------------------------------------------------


def _pct(done: int, total: int) -> float:
    return 100.0 if total == 0 else round(done / total * 100, 1)


def account_completeness(account: Any, settings: Any, as_of: dt.date) -> dict[str, float]:
    """Share (0-100) of the things each section of the plan should hold that it does hold.

    strategy: the charter fields and the five questions. plan: at least one objective, a strategy
    per objective, a tactic per strategy, quarter/owner/due per tactic. relationships: the minimum
    number of decision makers, and per decision maker the four agenda answers, a counterpart and a
    last contact date. pipeline: at least one opportunity, and per opportunity a value, an expected
    close date, the dormant problem and the vision (and a go/no-go decision past the decision
    stage). performance: a sales target, achieved and forecast for the year of as_of, a survey
    within the survey limit, with a score. overall: the mean of the five.
    """

    limits = settings.checks.limits
    s = account.strategy
    strategy = [filled(getattr(s, n)) for n in CHARTER + FIVE_QUESTIONS]

    plan = [bool(account.plan.objectives)]
    for obj in account.plan.objectives:
        plan.append(bool(obj.strategies))
        for strat in obj.strategies:
            plan.append(bool(strat.tactics))
            for t in strat.tactics:
                plan.extend(filled(getattr(t, k)) for k in TACTIC_NEEDS)

    dms = account.decision_makers
    rel = [i < len(dms) for i in range(limits.min_decision_makers)]
    for dm in dms:
        rel.extend(filled(getattr(dm, k)) for k in AGENDA + ("counterpart", "last_contact"))

    pipe = [bool(account.opportunities)]
    for o in account.opportunities:
        pipe.extend(filled(v) for v in (o.value, o.close, o.dormant_problem, o.vision))
        if o.stage in PAST_GATE:
            pipe.append(decided(o))

    year = [p for p in account.performance.sales if p.period.startswith(str(as_of.year))]
    recent = [v for v in account.performance.surveys
              if v.date <= as_of and (as_of - v.date).days <= limits.survey_days]
    perf = [any(p.target is not None for p in year), any(p.achieved is not None for p in year),
            any(p.forecast is not None for p in year), bool(recent), any(v.score is not None for v in recent)]

    sections = {name: _pct(sum(items), len(items)) for name, items in
                (("strategy", strategy), ("plan", plan), ("relationships", rel),
                 ("pipeline", pipe), ("performance", perf))}
    sections["overall"] = round(sum(sections.values()) / len(sections), 1)
    return sections
