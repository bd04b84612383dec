"""Check rules: small functions (account, context) -> findings, registered with stable codes."""
