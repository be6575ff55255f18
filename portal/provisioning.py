"""First run of a new installation: what `make run`'s demo loads, without the demo — the chosen
province's official divisions, the alias table, the pilot batches of fixtures/pilots/ that belong
to it, the current framework, and the first provincial administrator. Every step is idempotent, so
running it again (after an upgrade, or by mistake) changes nothing that exists."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from evaluation.services.framework import load_framework
from townships.services.accounts import ensure_first_administrator
from townships.services.divisions import load_divisions
from townships.services.pilots import load_aliases, load_pilot_batch

FIXTURES = settings.BASE_DIR / "fixtures"


@dataclass(frozen=True)
class PilotFixture:
    path: Path
    province: str
    year: int
    name: str
    source: str


# The batches as the programme printed them (fixtures/README.md); a new batch is a new line here.
PILOT_BATCHES = [
    PilotFixture(FIXTURES / "pilots" / "batch-2021-1.txt", "37", 2021, "首批",
                 "山东省教育厅《山东省教育强镇筑基行动实施方案》（2021）附件：首批教育强镇筑基试点乡镇名单"),
]


class ProvisioningError(RuntimeError):
    pass


@dataclass
class Provisioned:
    divisions: object = None
    batches: list[str] = field(default_factory=list)
    framework: str = ""
    administrator: str = ""
    password: str | None = None  # only when the administrator was created now


@transaction.atomic
def provision(*, province: str, admin_username: str, admin_full_name: str = "", admin_phone: str = "") -> Provisioned:
    done = Provisioned()
    done.divisions = load_divisions(provinces={province})
    if not done.divisions.provinces:
        raise ProvisioningError(f"no province has the code {province!r} in fixtures/divisions")
    load_aliases(path=FIXTURES / "division_aliases.csv")
    for batch in (b for b in PILOT_BATCHES if b.province == province):
        report = load_pilot_batch(text=batch.path.read_text(encoding="utf-8"), year=batch.year, name=batch.name,
                                  source_document=batch.source, province_code=province)
        if report.unresolved:
            raise ProvisioningError(report.render())
        done.batches.append(f"{batch.year} {batch.name}: {len(report.resolutions)}")
    done.framework = load_framework().version
    admin, done.password = ensure_first_administrator(username=admin_username, province_code=province,
                                                      full_name=admin_full_name, phone=admin_phone)
    done.administrator = admin.username
    return done
