"""File import and export: household rosters (住户名册) as CSV or XLSX."""

from colift.io.roster import (
    ROSTER_COLUMNS,
    RosterColumn,
    RosterRow,
    format_errors,
    parse_rows,
    read_roster,
    write_roster,
    write_template,
)

__all__ = [
    "ROSTER_COLUMNS",
    "RosterColumn",
    "RosterRow",
    "format_errors",
    "parse_rows",
    "read_roster",
    "write_roster",
    "write_template",
]
