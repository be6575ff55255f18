"""Spreadsheet import of school and township data: read, parse, check, diff, commit — all or nothing.

service.py    the entry points: store an upload, preview it, commit it, or both in one step
reading.py    bytes → sheets of raw cells (XLSX/XLS/CSV, safety limits)
columns.py    what each sheet holds: headers, types, bounds (the template and the parser share it)
parsing.py    one raw cell → a typed value, with errors in Chinese naming row, column and value
validation.py raw sheet → ParsedSheet: the header row found, typed records, cross-field checks
scope.py      scope and references: rows inside the uploader's area, duplicates, locked data
diff.py       the file's rows against the stored ones: new, changed, unchanged, implausible flags
pipeline.py   read → parse → check → diff for a whole file, with no writes (preview and commit)
commit.py     the transaction: refusals, writes, statistics, audit, roll-up queued on commit
writing.py    RowChanges → rows for the upserts; upsert.py: COPY and INSERT … ON CONFLICT
records.py    the typed records between the stages (RowChange, SheetOutcome, Outcome, Flag)
workbook.py   the template and exports (the files the portal gives out)
"""
