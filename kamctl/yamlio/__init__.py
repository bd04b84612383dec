"""YAML in and out: plain data with positions for reading, round-trip edits for writing."""
