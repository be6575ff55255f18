"""The bench runs whole: every group runs even when one before it fails, the figures are written
to the JSON after each group (a failure later loses nothing), a failed group is in the table and
the exit status, and the HTTP clients start in fresh interpreters (spawn) whatever the process
that starts them holds."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bench.clients import SPAWN, http_clients
from bench.framework import Figure, render_table, run_groups
from bench.management.commands.bench import Command
from townships.models import Division

JSON_SEEN: list = []


def tiny_real_group(scale):
    # A real measurement on the database, as the groups do.
    count = Division.objects.filter(code__startswith="37").count()
    return [Figure("tiny.divisions", count, "rows", count * 2, "twice as many", higher_is_better=True, floor=count * 4)]


def failing_group(scale):
    raise RuntimeError("the group broke\nsecond line")


def reads_json_group(scale, path=None):
    # What a crash here would leave: the file as written after the groups before.
    with open(JSON_PATH[0], encoding="utf-8") as f:
        JSON_SEEN.append(json.load(f))
    return [Figure("later.seconds", 2.0, "s", 4.0, "a baseline")]


JSON_PATH: list = []
GROUPS = {"tiny": f"{__name__}:tiny_real_group", "broken": f"{__name__}:failing_group", "later": f"{__name__}:reads_json_group"}


@pytest.fixture
def json_path(tmp_path):
    JSON_PATH[:] = [str(tmp_path / "bench-results.json")]
    JSON_SEEN.clear()
    return JSON_PATH[0]


def test_a_failing_group_is_reported_and_the_json_is_written_after_each_group(geography, json_path):
    run = run_groups(["tiny", "broken", "later"], "city", database="sqlite", json_path=json_path, groups=GROUPS, out=lambda line: None)
    # When "later" ran, the file already held the first group's figure and the failure.
    seen = JSON_SEEN[0]
    assert [f["name"] for f in seen["figures"]] == ["tiny.divisions"]
    assert seen["groups"]["broken"] == {"ok": False, "seconds": seen["groups"]["broken"]["seconds"], "error": "RuntimeError: the group broke"}
    assert "later" not in seen["groups"]
    with open(json_path, encoding="utf-8") as f:
        final = json.load(f)
    assert [f["name"] for f in final["figures"]] == ["tiny.divisions", "later.seconds"]
    assert [name for name, g in final["groups"].items() if not g["ok"]] == ["broken"]
    tiny = final["figures"][0]
    assert tiny["ratio"] == 0.5 and tiny["floor_ratio"] == 0.25  # rates: ours ÷ baseline, ours ÷ floor
    assert [g.name for g in run.failed] == ["broken"]
    table = render_table(run)
    assert "broken FAILED" in table and "RuntimeError: the group broke" in table and "later.seconds" in table


def test_the_command_exits_non_zero_when_a_group_failed_and_zero_when_none_did(geography, json_path, monkeypatch, capsys):
    # The throwaway database is the test's own here; the groups are the fakes above.
    monkeypatch.setattr(connection.creation, "create_test_db", lambda **kw: connection.settings_dict["NAME"])
    monkeypatch.setattr(connection.creation, "destroy_test_db", lambda *a, **kw: None)
    monkeypatch.setattr("bench.framework.BENCH_GROUPS", GROUPS)
    # CommandError is what `python -m bench` (run_from_argv, as manage.py) turns into exit status 1.
    with pytest.raises(CommandError, match=r"broken \(RuntimeError: the group broke\)"):
        call_command(Command(), "--only", "tiny", "--only", "broken", "--json", json_path)
    assert "broken FAILED" in capsys.readouterr().out
    with open(json_path, encoding="utf-8") as f:
        assert [f["name"] for f in json.load(f)["figures"]] == ["tiny.divisions"]
    call_command(Command(), "--only", "tiny", "--json", json_path)  # no error: status 0


class StubPortal(BaseHTTPRequestHandler):
    """Answers every GET with 200 "ok" and every POST (a survey answer) with a redirect."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(302)
        self.send_header("Location", "/s/done/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _run_spawned(target, args_for_port) -> tuple[list, int]:
    """Start `target` in a spawned process against a stub portal while this process holds a thread
    and a lock (what a fork would copy locked into the child); its first report and exit code."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubPortal)
    held = threading.Lock()
    held.acquire()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        queue = SPAWN.Queue()
        proc = SPAWN.Process(target=target, args=(*args_for_port(server.server_address[1]), queue))
        proc.start()
        report = queue.get(timeout=60)
        proc.join(timeout=30)
    finally:
        server.shutdown()
        held.release()
    return report, proc.exitcode


def test_http_clients_run_in_a_spawned_process_while_this_one_holds_a_thread_and_a_lock(json_path):
    start = time.time() + 2.0
    window, exitcode = _run_spawned(http_clients, lambda port: (port, "/", "", 2, start, start, start + 0.5))
    assert window and all(status == 200 for _, status in window)
    assert exitcode == 0


def test_survey_clients_run_in_a_spawned_process_too(json_path):
    """The survey group forked its clients after the groups before it had left threads and a
    worker behind, and a whole run hung in it until the queue timed out (18 minutes)."""
    from bench.survey_clients import client_process

    jobs = [[("CODE1", 0.0, False)], [("CODE2", 0.1, True)]]
    rows, exitcode = _run_spawned(client_process, lambda port: (port, jobs, time.time() + 2.0))
    assert sorted((kind, code, status) for kind, code, status, _location, _s in rows) == [
        ("answer", "CODE1", 302), ("double", "CODE2", 302), ("double", "CODE2", 302), ("page", "CODE1", 200), ("page", "CODE2", 200)]
    assert exitcode == 0
