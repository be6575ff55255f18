"""Spreadsheet import of school and township data: read, validate, diff, commit — all or nothing.

reading.py   bytes → sheets of raw cells (XLSX/XLS/CSV, safety limits)
columns.py   what each sheet holds: headers, types, bounds (the template and the parser share it)
parsing.py   raw cells → typed values, with errors in Chinese naming row, column and value
service.py   preview and commit: scope, duplicates, cross-field checks, diff, implausible flags,
             one transaction, history
"""
