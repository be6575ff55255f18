"""The documented backup and restore (scripts/backup.sh, scripts/restore.sh): a dump restored into
a fresh database passes the integrity checks; a restore never overwrites a database in use."""
import os
import shutil
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump / pg_restore: CI runs this on PostgreSQL"),
    pytest.mark.skipif(not shutil.which("pg_dump"), reason="needs the PostgreSQL client tools"),
]


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def test_backup_restores_into_a_fresh_database_that_passes_the_checks(transactional_db, world, tmp_path):
    from evaluation.rollup import rollup_all
    from evaluation.services.demo import load_demo_facts
    from evaluation.services.framework import load_framework
    from security.audit import record
    from townships.models import School
    from townships.services.demo import load_demo_schools

    load_framework()
    load_demo_schools(province_prefix="370881", villages_per_township=1)
    load_demo_facts(province_prefix="370881", periods=(2024,))
    rollup_all(period=2024, prefix="3708")
    record(action="probe", user=world.user("province"))
    schools = School.objects.count()
    env = {**os.environ, "DATABASE_URL": _url(connection.settings_dict["NAME"]), "PYTHON": sys.executable,
           "PORTAL_PRIVATE_MEDIA": str(tmp_path / "media")}
    (tmp_path / "media" / "evidence").mkdir(parents=True)
    (tmp_path / "media" / "evidence" / "x.png").write_bytes(b"\x89PNG")
    dump = subprocess.run(["bash", str(settings.BASE_DIR / "scripts" / "backup.sh"), str(tmp_path / "backup")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert dump.returncode == 0, dump.stderr
    path = dump.stdout.strip().splitlines()[-1]
    tar = path.replace("portal-", "private-").replace(".dump", ".tar.gz")
    fresh = f"qzzj_restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", _url("postgres"), "-qc", f"CREATE DATABASE {fresh}"], check=True, timeout=60)
    try:
        env_restore = {**env, "DJANGO_SETTINGS_MODULE": "portal.settings.local"}
        restored = subprocess.run(["bash", str(settings.BASE_DIR / "scripts" / "restore.sh"), path, _url(fresh), tar, str(tmp_path / "restored-media")],
                                  env=env_restore, capture_output=True, text=True, timeout=600)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "完整性检查通过" in restored.stdout
        count = subprocess.run(["psql", _url(fresh), "-Atc", "select count(*) from townships_school"], capture_output=True, text=True, timeout=60)
        assert int(count.stdout) == schools
        assert (tmp_path / "restored-media" / "evidence" / "x.png").read_bytes() == b"\x89PNG"
        # Never over a database in use: the same restore into the now-populated one is refused.
        again = subprocess.run(["bash", str(settings.BASE_DIR / "scripts" / "restore.sh"), path, _url(fresh)], env=env_restore,
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 2 and "refusing" in again.stderr
        # A broken restore is caught: a school moved outside its township's county fails the check.
        subprocess.run(["psql", _url(fresh), "-qc", "ALTER TABLE evaluation_schoolyear DISABLE TRIGGER ALL; "
                        "UPDATE evaluation_schoolyear SET township_id = '370883101' WHERE id = (SELECT min(id) FROM evaluation_schoolyear)"],
                       check=True, timeout=60)
        broken = subprocess.run([sys.executable, "manage.py", "integrity_check"], cwd=settings.BASE_DIR,
                                env={**env_restore, "DATABASE_URL": _url(fresh)}, capture_output=True, text=True, timeout=300)
        assert broken.returncode != 0 and "不一致" in broken.stderr
    finally:
        subprocess.run(["psql", _url("postgres"), "-qc", f"DROP DATABASE IF EXISTS {fresh} WITH (FORCE)"], timeout=60)
