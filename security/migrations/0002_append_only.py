"""On PostgreSQL the audit log is append-only at the database: UPDATE is refused, and DELETE of
events younger than 180 days (the shortest retention) is refused — whatever the application does."""
from django.db import migrations

TRIGGER = """
CREATE OR REPLACE FUNCTION security_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'audit events cannot be changed';
  END IF;
  IF OLD.at > now() - interval '180 days' THEN
    RAISE EXCEPTION 'audit events are kept at least 180 days';
  END IF;
  RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER security_audit_append_only BEFORE UPDATE OR DELETE ON security_auditevent
FOR EACH ROW EXECUTE FUNCTION security_audit_append_only();
"""
DROP = "DROP TRIGGER IF EXISTS security_audit_append_only ON security_auditevent; DROP FUNCTION IF EXISTS security_audit_append_only();"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
