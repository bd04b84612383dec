"""What a rule is, and the rules of loading: reading (KAM0xx) and schema (KAM1xx).

Check rules (KAM2xx and up) are declared next to their functions in kamctl/checks/; the one
registry of every rule is kamctl.checks.RULES, built from an explicit list of modules.

Codes are stable (like ruff's): KAM0xx reading files, KAM1xx schema, KAM2xx strategy charter,
KAM3xx development plan, KAM4xx relationship plan, KAM5xx pipeline, KAM6xx performance and
satisfaction, KAM7xx relationship level and alerts, KAM8xx history.
"""

from __future__ import annotations

from dataclasses import dataclass

from kamctl.findings import Severity


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    explanation: str
    fix: str
    family: str


def rule(code: str, name: str, severity: str, explanation: str, fix: str, family: str) -> Rule:
    """A Rule from plain values (severity by name), as rule modules declare them."""
    return Rule(code, name, Severity(severity), explanation, fix, family)


_R, _S = "reading", "schema"

LOADING_RULES: tuple[Rule, ...] = (
    rule("KAM001", "malformed-yaml", "error",
         "The file is not valid YAML, so nothing in it can be checked.",
         "Fix the syntax at the line shown (indent with spaces, not tabs; close quotes and brackets).", _R),
    rule("KAM002", "duplicate-key", "error",
         "A key appears twice in the same mapping. YAML tools disagree on which value wins; kamctl "
         "keeps the first and reports the second.",
         "Delete or merge the second occurrence.", _R),
    rule("KAM003", "unsupported-yaml", "error",
         "The file uses a YAML feature account files do not need and kamctl refuses for safety: "
         "custom tags such as !!python/object, merge keys (<<), several documents in one file.",
         "Write the values out plainly, one document per file.", _R),
    rule("KAM004", "file-too-large", "error",
         "The file is larger, deeper or expands to more values (through aliases) than any account "
         "plan needs; kamctl stops reading it to stay fast and safe.",
         "Split the file or remove the deep nesting / alias chains.", _R),
    rule("KAM005", "bad-encoding", "error",
         "Account files are UTF-8 text. This file has bytes that are not UTF-8.",
         "Re-save the file as UTF-8.", _R),
    rule("KAM006", "not-a-mapping", "error",
         "An account file (and kam.yaml) holds one mapping of keys at top level.",
         "Start the file with `name: ...` and the other sections as keys.", _R),
    rule("KAM007", "bad-account-id", "error",
         "The file name (without .yaml) is the account id: lowercase letters, digits and dashes, "
         "starting with a letter or digit.",
         "Rename the file, e.g. `acme-corp.yaml`.", _R),
    rule("KAM008", "unreadable-file", "error",
         "The file could not be read (a link leaving the workspace, a folder, no permission).",
         "Replace the link with the file itself, or fix its permissions.", _R),
    rule("KAM101", "unknown-key", "error",
         "A key that the account model does not define: usually a typo, which would otherwise be "
         "silently ignored.",
         "Use the suggested key, or see `kamctl schema` for the fields allowed here.", _S),
    rule("KAM102", "wrong-type", "error",
         "A value of the wrong kind, such as text where a number belongs or a list where a mapping belongs.",
         "Write the value in the form the message names.", _S),
    rule("KAM103", "out-of-range", "error",
         "A number outside its range: factor scores run from 0 to 10 (higher is better for us), "
         "survey scores from 1 to 5, probabilities from 0 to 1.",
         "Put the value back in range.", _S),
    rule("KAM104", "missing-key", "error",
         "A required key is absent (an account needs a `name`; a tactic needs a `title`).",
         "Add the key under the parent shown.", _S),
    rule("KAM105", "bad-date", "error",
         "A date that is not a real calendar date in YYYY-MM-DD form.",
         "Write the date as YYYY-MM-DD, e.g. 2026-03-31.", _S),
    rule("KAM106", "bad-choice", "error",
         "A value that must be one of a fixed set (a stage, a role, a rating) is not one of them.",
         "Use one of the values the message lists.", _S),
    rule("KAM107", "duplicate-id", "error",
         "Two items in one list share an id (opportunities, decision makers), so commands could not "
         "tell them apart.",
         "Give each item its own id.", _S),
    rule("KAM108", "invalid-value", "error",
         "A value breaks a rule of the model not covered by a more specific code.",
         "Correct the value as the message says.", _S),
)
