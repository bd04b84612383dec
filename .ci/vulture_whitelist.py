"""Names vulture (.ci/run) reports as unused that are used from outside Python's sight."""
_ = object()

warning  # enum members, reached by value: Severity("warning"), the --colour choice
FORMATS  # the `kamctl check --format` names, the documented set (formats.render)
_.revision  # read by templates and tests: the commit a workspace was loaded at
SCHEMA_FILES  # the committed schema files (tests and `schema --check`)
intercepted_binops  # Jinja's SandboxedEnvironment reads it
_.wrap_str_format  # Jinja's SandboxedEnvironment calls it
signum  # a signal handler's signature
_.preserve_quotes  # ruamel.yaml's YAML reads these settings
_.ignore_aliases
AUDIENCES  # the audiences FIELDS may name; tests/test_audience.py holds FIELDS to it
STAGE_FORECAST  # read by kamctl/model/account.py (Opportunity.forecast_category), which vulture skips
FORECAST_OVERRIDES  # the values of Opportunity.forecast, in kamctl/model/account.py
regular  # Coverage members, reached by value from account files (Coverage("deep"))
deep
_.in_file  # `kamctl whitespace --format json`: a cell only an opportunity names
