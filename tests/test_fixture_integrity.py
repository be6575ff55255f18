"""The geography and the first pilot batch are loaded exactly as the official sources say."""
import pytest
from django.conf import settings

from townships.models import PROGRAMME_KINDS, Division, DivisionAlias, Level, PilotBatch, PilotTownship, TownshipKind
from townships.services.divisions import load_divisions
from townships.services.pilots import ALIAS, EXACT, load_pilot_batch, reconcile_pilot_list

pytestmark = pytest.mark.usefixtures("geography")

FIRST_BATCH = settings.BASE_DIR / "fixtures" / "pilots" / "batch-2021-1.txt"

# The 65 pilots of the first batch: code, county code, city code, official name — read off the
# 2023 statistical codes by hand, including the four that do not match the document's wording.
FIRST_BATCH_EXPECTED = {
    "370124102": "东阿镇", "370124103": "孝直镇", "370126106": "贾庄镇", "370126109": "孙集镇",
    "370281102": "李哥庄镇", "370215104": "移风店镇", "370285101": "姜山镇", "370211103": "泊里镇", "370283110": "明村镇",
    "370306102": "王村镇", "370305103": "敬仲镇", "370321110": "果里镇", "370302102": "昆仑镇",
    "370481106": "西岗镇", "370402104": "永安镇", "370405104": "马兰屯镇", "370403104": "陶庄镇",
    "370505101": "胜坨镇", "370522103": "陈庄镇", "370523101": "大王镇",
    "370681110": "诸由观镇", "370687106": "发城镇", "370685106": "张星镇", "370614109": "北沟镇",
    "370724116": "蒋峪镇", "370783115": "羊口镇", "370781105": "邵庄镇", "370725110": "红河镇",
    "370881109": "息陬镇", "370826101": "韩庄镇", "370812111": "小孟镇", "370830102": "南旺镇", "370883114": "郭里镇",
    "370921103": "伏山镇", "370982113": "谷里镇", "370911106": "满庄镇", "370902100": "省庄镇",
    "371082112": "人和镇", "371003101": "大水泊镇", "371002100": "张村镇", "371083103": "白沙滩镇",
    "371122102": "招贤镇", "371103102": "巨峰镇", "371121107": "叩官镇",
    "371312108": "郑旺镇", "371328102": "岱崮镇", "371324102": "兰陵镇", "371302103": "半程镇",
    "371423203": "徐园子乡", "371428103": "鲁权屯镇", "371482101": "房寺镇", "371402100": "二屯镇", "371481108": "铁营镇",
    "371525101": "贾镇", "371503104": "博平镇", "371502102": "堂邑镇", "371526107": "赵寨子镇",
    "371603103": "冯家镇", "371625101": "曹王镇", "371622101": "商店镇", "371681113": "明集镇",
    "371703102": "冉固镇", "371721107": "古营集镇", "371722101": "郭村镇", "371723111": "成武县张楼镇",
}


def test_shandong_counts():
    shandong = Division.objects.filter(code__startswith="37")
    assert shandong.filter(level=Level.PROVINCE).count() == 1
    assert shandong.filter(level=Level.CITY).count() == 16
    assert shandong.filter(level=Level.COUNTY).count() == 151
    townships = shandong.filter(level=Level.TOWNSHIP)
    assert townships.count() == 1853
    assert townships.filter(kind=TownshipKind.TOWN).count() == 1072
    assert townships.filter(kind=TownshipKind.XIANG).count() == 57
    assert townships.filter(kind=TownshipKind.SUBDISTRICT).count() == 684
    assert townships.filter(kind=TownshipKind.SPECIAL).count() == 40
    # The programme's goal is counted over 乡 and 镇.
    assert townships.filter(kind__in=PROGRAMME_KINDS).count() == 1129


def test_tree_is_consistent():
    # Every unit's code extends its parent's code by the level's width.
    for d in Division.objects.filter(code__startswith="37").exclude(level=Level.PROVINCE).select_related("parent"):
        assert d.code.startswith(d.parent.code), d
        assert len(d.code) == {"city": 4, "county": 6, "township": 9}[d.level]


@pytest.mark.parametrize(
    "code,kind",
    [("370102001", "subdistrict"), ("370124102", "town"), ("371423203", "xiang"), ("370117400", "special")],
)
def test_kind_from_code(code, kind):
    assert Division.objects.get(code=code).kind == kind


def test_first_batch_has_65_pilots_under_the_right_county_and_city():
    batch = PilotBatch.objects.get(year=2021, name="首批")
    pilots = {p.township_id: p for p in batch.townships.select_related("township__parent__parent")}
    assert len(pilots) == 65
    assert {code: p.township.name for code, p in pilots.items()} == FIRST_BATCH_EXPECTED
    for code, p in pilots.items():
        assert p.township.parent_id == code[:6]
        assert p.township.parent.parent_id == code[:4]
        assert p.township.kind in PROGRAMME_KINDS
    # 16 cities, each with at least three pilots (the document's list).
    assert len({code[:4] for code in pilots}) == 16


def test_reconciliation_report_names_every_mismatch():
    report = reconcile_pilot_list(FIRST_BATCH.read_text(encoding="utf-8"))
    assert len(report.resolutions) == 65
    assert report.count(EXACT) == 62 and report.count(ALIAS) == 3 and not report.unresolved
    by_written = {r.entry.written: r for r in report.resolutions}
    assert by_written["西海岸新区泊里镇"].county.code == "370211" and by_written["西海岸新区泊里镇"].status == ALIAS
    assert by_written["定陶区冉堌镇"].township.code == "371703102" and by_written["定陶区冉堌镇"].status == ALIAS
    assert by_written["成武县张楼镇"].township.code == "371723111" and by_written["成武县张楼镇"].status == ALIAS
    # Entries without a county take the one named before them on the line.
    assert by_written["孝直镇"].county.code == "370124" and by_written["孝直镇"].entry.county_inherited
    assert by_written["孙集镇"].county.code == "370126"
    text = report.render()
    assert "65" in text and "370211103" in text


def test_loader_is_idempotent():
    before = list(PilotTownship.objects.order_by("id").values_list("id", "township_id", "phase"))
    load_pilot_batch(text=FIRST_BATCH.read_text(encoding="utf-8"), year=2021, name="首批", source_document="again")
    assert list(PilotTownship.objects.order_by("id").values_list("id", "township_id", "phase")) == before


def test_unresolved_batch_writes_nothing():
    batches, pilots = PilotBatch.objects.count(), PilotTownship.objects.count()
    text = "济宁市:曲阜市息陬镇、尼山镇;嘉祥县不存在镇\n菏泽市:定陶区冉堌镇"
    report = load_pilot_batch(text=text, year=2023, name="第三批", source_document="test")
    assert [r.entry.written for r in report.unresolved] == ["嘉祥县不存在镇"]
    assert report.count(EXACT) == 2 and report.count(ALIAS) == 1
    assert PilotBatch.objects.count() == batches and PilotTownship.objects.count() == pilots


def test_a_later_batch_in_the_same_form_loads():
    text = "济宁市:嘉祥县纸坊镇、梁宝寺镇;金乡县鸡黍镇\n青岛市:西海岸新区大场镇"
    report = load_pilot_batch(text=text, year=2023, name="第三批", source_document="test")
    assert not report.unresolved, report.render()
    batch = report.batch
    codes = set(batch.townships.values_list("township__parent_id", flat=True))
    assert codes == {"370829", "370828", "370211"}


def test_aliases_are_in_the_table_with_reasons():
    for alias in DivisionAlias.objects.all():
        assert alias.reason
        assert alias.division.code.startswith(alias.scope_id)


def test_all_of_china_loads():
    result = load_divisions(provinces=None)
    assert (result.provinces, result.cities, result.counties, result.townships) == (31, 342, 2978, 41352)
    assert Division.objects.filter(level=Level.TOWNSHIP).count() == 41352
    # Loading twice changes nothing (upsert keyed by code).
    load_divisions(provinces=None)
    assert Division.objects.count() == 31 + 342 + 2978 + 41352
