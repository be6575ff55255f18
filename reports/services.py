"""Writes of the reports app: the approved map layer."""
from __future__ import annotations

import json

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from core.results_version import results_changed
from townships.models import Division, Level

from .models import MapLayer


class MapRefused(Exception):
    pass


def _city_key(feature: dict, cities: dict[str, str]) -> str | None:
    """The city a feature draws: by its code (adcode 370800 or 3708) or, failing that, its name."""
    props = feature.get("properties") or {}
    for key in ("adcode", "code", "id"):
        value = str(props.get(key) or feature.get(key) or "")
        if value[:4] in cities and (len(value) == 4 or value[4:].strip("0") == ""):
            return value[:4]
    by_name = {name: code for code, name in cities.items()}
    return by_name.get(str(props.get("name") or ""))


@transaction.atomic
def upload_map(*, user, name: str, approval_number: str, content: bytes) -> MapLayer:
    """Check an uploaded GeoJSON and make it the dashboard's map. All or nothing: a refused file
    leaves the current map in use."""
    if not user.is_provincial:
        raise MapRefused(_("Only provincial staff can upload a map."))
    if not approval_number.strip():
        raise MapRefused(_("Enter the map's review number (审图号): only an approved map may be published."))
    if len(content) > settings.MAP_MAX_BYTES:
        raise MapRefused(_("The file is larger than %(mb)d MB.") % {"mb": settings.MAP_MAX_BYTES // 1024 // 1024})
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise MapRefused(_("The file is not GeoJSON (a JSON text in UTF-8).")) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise MapRefused(_("The GeoJSON must be a FeatureCollection of the province's cities."))
    cities = dict(Division.objects.filter(level=Level.CITY, code__startswith=settings.PROVINCE_CODE).values_list("code", "name"))
    matched: dict[str, dict] = {}
    for feature in data["features"]:
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise MapRefused(_("Every feature must be a Polygon or MultiPolygon."))
        code = _city_key(feature, cities)
        if code is None:
            props = feature.get("properties") or {}
            raise MapRefused(_("A feature matches no city of the province: %(name)s") % {"name": props.get("name") or props.get("adcode") or "?"})
        # Normalise: the dashboard finds each city by its 4-digit code and shows its official name.
        feature["properties"] = {"code": code, "name": cities[code]}
        matched[code] = feature
    if len(matched) != len(cities):
        missing = "、".join(cities[c] for c in sorted(set(cities) - set(matched)))
        raise MapRefused(_("The map lacks these cities: %(names)s") % {"names": missing})
    results_changed(codes=[settings.PROVINCE_CODE])  # the provincial dashboard draws the map instead of the tiles
    MapLayer.objects.filter(is_active=True).update(is_active=False)
    return MapLayer.objects.create(
        name=name.strip() or approval_number.strip(), approval_number=approval_number.strip(),
        geojson=json.dumps({"type": "FeatureCollection", "features": list(matched.values())}, ensure_ascii=False),
        features=len(matched), uploaded_by=user,
    )
