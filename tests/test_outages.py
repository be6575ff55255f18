"""Lost services, on a Redis server of the test's own on a spare port (never the machine's shared
one): with Redis down pages keep working (the cache degrades to none), work that needs a job is
kept in the database and the page says processing is delayed; when Redis is back it is queued."""
import shutil
import socket
import subprocess
import time

import pytest
from django.test import override_settings

from core.models import DeferredTask
from evaluation.models import ImportRun, ImportStatus
from tests import import_files as f

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server (Debian's redis-server package)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    def __init__(self, tmp_path):
        self.port, self.dir, self.proc = _free_port(), tmp_path, None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                      "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def queue_length(self, name="celery") -> int:
        import redis

        return redis.Redis.from_url(self.url).llen(name)


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def broker(own_redis):
    """The Celery app pointed at the test's own Redis (not eager), restored afterwards."""
    from portal.celery import app

    def reset_connections():
        # Celery and kombu keep connection and producer pools made from the broker URL: drop
        # them (closing them would leave closed pools behind for the next test to acquire from).
        from kombu import pools

        app._pool = None
        app.amqp._producer_pool = None
        pools.reset()

    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=own_redis.url, task_always_eager=False)
    reset_connections()
    yield own_redis
    app.conf.update(**saved)
    reset_connections()


def test_pages_keep_working_while_the_cache_is_down(own_redis, client, world):
    from django.core.cache import caches

    cache = {"default": {"BACKEND": "portal.cache.ResilientRedisCache", "LOCATION": own_redis.url, "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}
    with override_settings(CACHES=cache):
        caches["default"].set("probe", "up")
        assert caches["default"].get("probe") == "up"  # really on Redis
        client.force_login(world.user("county_370881"))
        assert client.get("/dashboard/").status_code == 200
        own_redis.stop()
        assert caches["default"].get("probe") is None
        started = time.monotonic()
        assert client.get("/dashboard/").status_code == 200
        assert client.get("/dashboard/township/370881109/").status_code == 200
        assert time.monotonic() - started < 10  # fails fast, never hangs on the dead server


@pytest.mark.django_db(transaction=True)  # commits for real, so the job is queued at commit as in production
def test_work_is_kept_while_the_broker_is_down_and_queued_when_it_is_back(broker, client, world, settings):
    from core.queueing import flush_deferred_tasks

    settings.IMPORT_ASYNC_BYTES = 1  # every upload is a background job
    broker.stop()
    client.force_login(world.user("county_370881"))
    response = client.post("/data/upload/", {"file": _upload(f.school_year_xlsx())}, follow=True)
    assert response.status_code == 200
    assert "服务恢复后自动处理" in response.content.decode()
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.QUEUED  # saved, waiting; nothing lost
    deferred = DeferredTask.objects.get()
    assert deferred.task == "evaluation.tasks.preview_import_task" and deferred.args == [run.pk]
    assert flush_deferred_tasks() == 0 and DeferredTask.objects.count() == 1  # still down: kept
    broker.start()
    assert flush_deferred_tasks() == 1
    assert not DeferredTask.objects.exists() and broker.queue_length() == 1


def _upload(data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("学校年度数据.xlsx", data)
