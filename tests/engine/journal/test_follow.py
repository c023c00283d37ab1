"""Following a run folder from another process while a writer (a subprocess) appends to it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

from papertape.engine.journal import follow
from papertape.engine.journal.lock import RunLock

# The writer holds the run lock and appends lines the way a crash-prone writer could: each
# line in two writes with a pause in between (a reader in the middle sees half a line), then
# a torn tail that a "resume" cuts off before appending the rest (with the next seq).
WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from papertape.engine.journal.lock import RunLock

    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    lock = RunLock(folder)
    log = folder / "events.jsonl"

    def line(seq, kind):
        return ('{"kind":"%s","seq":%d,"time":%d}\\n' % (kind, seq, seq)).encode()

    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND)
    for seq in range(20):
        data = line(seq, "run_started" if seq == 0 else "signal")
        os.write(fd, data[:7]); time.sleep(0.01); os.write(fd, data[7:])
    os.write(fd, line(20, "signal")[:9])  # a crash mid-write: a torn tail
    time.sleep(0.3)
    os.truncate(log, os.path.getsize(log) - 9)  # the resume cuts the torn line off
    for seq in range(20, 30):
        os.write(fd, line(seq, "run_finished" if seq == 29 else "fill")); time.sleep(0.01)
    os.close(fd)
    lock.release()
    """
)


def test_follow_yields_whole_lines_in_order_across_a_torn_tail_and_a_resume(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "run"
    seen: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: seen.extend(follow(run_dir, poll=0.005)))
    reader.start()  # before the folder exists: it waits for it

    proc = subprocess.run([sys.executable, "-c", WRITER, str(run_dir)], timeout=60)
    reader.join(timeout=30)

    assert proc.returncode == 0 and not reader.is_alive()
    assert [e["seq"] for e in seen] == list(range(30))  # no torn line, no gap, no repeat
    assert seen[0]["kind"] == "run_started" and seen[-1]["kind"] == "run_finished"


def test_follow_from_a_seq_stops_at_an_interrupted_run(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    lines = [f'{{"kind":"signal","seq":{i},"time":{i}}}\n' for i in range(5)]
    (run_dir / "events.jsonl").write_text("".join(lines) + '{"kind":"sig')  # killed writer

    events = list(follow(run_dir, from_seq=3, poll=0.01))

    assert [e["seq"] for e in events] == [3, 4]


def test_follow_waits_while_the_writer_lock_is_held(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    log = run_dir / "events.jsonl"
    log.write_text('{"kind":"run_started","seq":0,"time":0}\n')
    lock = RunLock(run_dir)
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.extend(e["seq"] for e in follow(run_dir)))
    reader.start()
    reader.join(timeout=0.5)
    alive = reader.is_alive()
    with open(log, "a") as fh:
        fh.write('{"kind":"run_finished","seq":1,"time":1}\n')
    lock.release()
    reader.join(timeout=10)

    assert alive  # a live writer: the reader kept waiting for more
    assert seen == [0, 1]
