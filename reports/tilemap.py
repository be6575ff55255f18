"""The tile map: Shandong's 16 cities as equal tiles in roughly their geographic places (row,
column; north-west first). Drawn without map boundaries, which need an approved review number."""
TILES = {
    "3714": (0, 1), "3716": (0, 2), "3705": (0, 3), "3706": (0, 5), "3710": (0, 6),  # 德州 滨州 东营 烟台 威海
    "3715": (1, 0), "3701": (1, 1), "3703": (1, 2), "3707": (1, 3), "3702": (1, 4),  # 聊城 济南 淄博 潍坊 青岛
    "3709": (2, 1), "3713": (2, 3), "3711": (2, 4),  # 泰安 临沂 日照
    "3717": (3, 0), "3708": (3, 1), "3704": (3, 2),  # 菏泽 济宁 枣庄
}


def tiles(rows) -> list[dict]:
    """Grid placement for area rows of the province's cities; unknown codes go to a last row."""
    placed = []
    extra = 0
    for row in rows:
        r, c = TILES.get(row.code, (None, None))
        if r is None:
            r, c, extra = 4, extra, extra + 1
        placed.append({"row": r + 1, "col": c + 1, "area": row})
    return placed
