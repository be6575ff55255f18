"""The files pages load from node_modules, and only those: ECharts' dist holds 50 MB of other
builds and source maps that collectstatic would otherwise copy, hash and compress at every build."""
from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

VENDOR = {"vendor/echarts": (settings.BASE_DIR / "node_modules" / "echarts" / "dist", ["echarts.min.js"])}


class VendorFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        self.storages = {}
        for prefix, (location, _files) in VENDOR.items():
            storage = FileSystemStorage(location=location)
            storage.prefix = prefix
            self.storages[prefix] = storage

    def find(self, path, find_all=False, **kwargs):
        find_all = find_all or kwargs.get("all", False)
        for prefix, (_location, files) in VENDOR.items():
            name = path.removeprefix(prefix + "/")
            if name != path and name in files and self.storages[prefix].exists(name):
                found = self.storages[prefix].path(name)
                return [found] if find_all else found
        return [] if find_all else None

    def list(self, ignore_patterns):
        for prefix, (_location, files) in VENDOR.items():
            for name in files:
                if self.storages[prefix].exists(name):
                    yield name, self.storages[prefix]
