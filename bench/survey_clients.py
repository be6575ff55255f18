"""The survey bench's clients (bench/surveys.py): parents on their phones, in processes started
with 'spawn' (bench/clients.py says why) — so this module imports nothing of Django: a spawned
child imports it to find its function, and must not need the portal's settings to do so."""
from __future__ import annotations

import http.client
import random
import threading
import time
from urllib.parse import urlencode

CHOICES = ["非常满意", "满意", "一般", "不满意", "非常不满意"]


def _answer_body(rng: random.Random) -> bytes:
    data = {f"q{n}": rng.choices(CHOICES, weights=(50, 40, 6, 3, 1))[0] for n in range(1, 7)}
    if rng.random() < 0.1:
        data["q7"] = "希望学校多组织亲子活动。"
    return urlencode(data).encode()


def _send(conn_box: list, port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, str, float]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    started = time.perf_counter()
    for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: reconnect once
        if conn_box[0] is None:
            conn_box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn_box[0].request(method, path, body=body, headers=headers)
            response = conn_box[0].getresponse()
            response.read()
            return response.status, response.getheader("Location", ""), time.perf_counter() - started
        except (OSError, http.client.HTTPException) as exc:
            conn_box[0].close()
            conn_box[0] = None
            if attempt == 2:
                return 0, repr(exc), time.perf_counter() - started
    raise AssertionError("unreachable")


def answer_code(port: int, code: str, rng: random.Random, double: bool, conn_box: list) -> list[tuple]:
    """One parent: the page, then the answers (twice at once for a double tap). Returns
    (kind, code, status, location, seconds) rows."""
    path = f"/s/{code}/"
    rows = []
    status, location, seconds = _send(conn_box, port, "GET", path)
    rows.append(("page", code, status, location, seconds))
    body = _answer_body(rng)
    if not double:
        status, location, seconds = _send(conn_box, port, "POST", path, body)
        rows.append(("answer", code, status, location, seconds))
        return rows
    taps: list[tuple] = []
    lock = threading.Lock()

    def tap():
        result = _send([None], port, "POST", path, body)
        with lock:
            taps.append(result)

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows.extend(("double", code, s, loc, sec) for s, loc, sec in taps)
    return rows


def client_process(port: int, jobs: list[list[tuple[str, float, bool]]], start_at: float, queue) -> None:
    results: list[tuple] = []
    lock = threading.Lock()

    def client(mine):
        rng = random.Random(mine[0][0] if mine else 0)  # a string seed: the same in every process
        conn_box: list = [None]
        rows = []
        for code, offset, double in mine:
            delay = start_at + offset - time.time()
            if delay > 0:
                time.sleep(delay)
            rows.extend(answer_code(port, code, rng, double, conn_box))
        with lock:
            results.extend(rows)

    threads = [threading.Thread(target=client, args=(mine,)) for mine in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(results)
