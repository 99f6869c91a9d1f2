"""The briefing packet PDF at small and large data, in a subprocess with a memory cap and a time limit.

    .venv/bin/python benchmarks/packet.py [--sizes small large] [--memory-mb 2048] [--time-limit 1800]

For each size (databases from benchmarks/datasets.py) it runs `manage.py build_sample_packet`
(the packet the Celery task builds, synchronously: the next meeting's open cards, for omb.admin)
as a child process and samples, every half second, its resident memory (VmRSS, and VmHWM, the
peak, from /proc/<pid>/status) added up with that of its own children (the renderer processes
that lay out the agencies, core.pdf_render: the sum of their peaks, an upper bound) and the
packet's progress in the database. The child is killed when that memory passes --memory-mb or
it runs longer than --time-limit seconds; the report then says so, with the time and memory it had
reached and whether memory was still growing.
The small packet is the baseline (the issue's "small data: 7 s, 191 MB"); the target is the
large packet finished with a peak of at most 500 MB.

Writes var/bench/packet.json. Only the local database is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets

BASE_DIR = datasets.BASE_DIR
TARGET_PEAK_MB = 500
SAMPLE_SECONDS = 0.5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["small", "large"], choices=list(datasets.SIZES))
    parser.add_argument("--memory-mb", type=int, default=2048, help="kill the build past this resident memory")
    parser.add_argument("--time-limit", type=float, default=1800, help="kill the build after this many seconds")
    parser.add_argument(
        "--database",
        action="append",
        default=[],
        metavar="SIZE=URL",
        help="build from this database instead of the suite's for SIZE (a copy: the build writes a packet row)",
    )
    parser.add_argument("--json", default=str(BASE_DIR / "var" / "bench" / "packet.json"))
    return parser.parse_args(argv)


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a live process in MB; (0, 0) once it is gone."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0]) / 1024  # kB
    except (OSError, ValueError):
        pass
    return values["VmRSS"], values["VmHWM"]


def descendants(pid: int) -> list[int]:
    """The live child processes of ``pid`` and theirs (the packet's renderer children, core.pdf_render)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) added up over ``pid`` and its live descendants: the build with its renderers.

    The sum of each process's own peak is an upper bound of the tree's peak (they need not peak at once).
    """
    rss, hwm = 0.0, 0.0
    for process in [pid, *descendants(pid)]:
        one_rss, one_hwm = memory_mb(process)
        rss, hwm = rss + one_rss, hwm + one_hwm
    return rss, hwm


def _children_cpu() -> float:
    """User and system CPU seconds of this process's ended children and of their ended children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def newest_packet(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM challenge_cards_briefingpacket").fetchone()[0]


def packet_progress(url: str, after: int) -> tuple[int, str] | None:
    """The progress and note of the packet this build made (id above ``after``), as its page shows them."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT progress, progress_note FROM challenge_cards_briefingpacket WHERE id > %s ORDER BY id LIMIT 1",
                [after],
            ).fetchone()
    except psycopg.Error:
        return None
    return (row[0], row[1]) if row else None


def build(size: str, url: str, memory_cap_mb: int, time_limit: float) -> dict:
    out = BASE_DIR / "var" / "bench" / f"packet-{size}.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    command = [sys.executable, str(BASE_DIR / "manage.py"), "build_sample_packet", "--output", str(out)]
    before = newest_packet(url)
    cpu_before = _children_cpu()
    started = time.monotonic()
    child = subprocess.Popen(
        command, env=env, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = main_peak = 0.0
    samples: list[dict] = []
    progress_seen: list[int] = []
    stopped = ""
    next_progress = 0.0
    while child.poll() is None:
        elapsed = time.monotonic() - started
        rss, hwm = tree_memory_mb(child.pid)
        peak = max(peak, hwm, rss)
        main_peak = max(main_peak, *memory_mb(child.pid))
        if elapsed >= next_progress:  # the database every 2 s, memory every half second
            progress = packet_progress(url, before)
            if progress and (not progress_seen or progress[0] != progress_seen[-1]):
                progress_seen.append(progress[0])
            samples.append({"s": round(elapsed, 1), "rss_mb": round(rss), "progress": progress and progress[0]})
            next_progress = elapsed + 2
        if rss > memory_cap_mb:
            stopped = f"killed at the memory cap ({memory_cap_mb} MB)"
        elif elapsed > time_limit:
            stopped = f"killed at the time limit ({time_limit:.0f} s)"
        if stopped:
            child.kill()
            break
        time.sleep(SAMPLE_SECONDS)
    output = child.communicate(timeout=60)[0]
    seconds = time.monotonic() - started
    growing = len(samples) >= 3 and samples[-1]["rss_mb"] > samples[len(samples) // 2]["rss_mb"]
    result = {
        "size": size,
        "status": stopped or ("finished" if child.returncode == 0 else f"failed (exit {child.returncode})"),
        "seconds": round(seconds, 1),
        # CPU of the build and of the renderer children it waited for (a finished build): steadier than the
        # time on a loaded machine; on 2 quiet cores the time is about half of it.
        "cpu_seconds": round(_children_cpu() - cpu_before, 1) if child.returncode == 0 else None,
        "peak_mb": round(peak),
        "main_process_peak_mb": round(main_peak),
        "memory_still_growing_when_stopped": bool(stopped) and growing,
        "pdf_bytes": out.stat().st_size if out.exists() else None,
        "progress_values_seen": progress_seen,
        "samples": samples,
        "output": output.strip().splitlines()[-3:],
    }
    return result


def run(args: argparse.Namespace) -> dict:
    results = {}
    databases = dict(item.split("=", 1) for item in args.database)
    for size in args.sizes:
        url = databases.get(size) or datasets.ensure(size)
        print(f"==> Briefing packet, {size} data (cap {args.memory_mb} MB, {args.time_limit:.0f} s)", flush=True)
        results[size] = build(size, url, args.memory_mb, args.time_limit)
        r = results[size]
        print(
            f"    {r['status']}: {r['seconds']} s (CPU {r['cpu_seconds']} s), peak {r['peak_mb']} MB with its "
            f"renderers ({r['main_process_peak_mb']} MB the build alone), progress seen {r['progress_values_seen']}"
        )
    large = results.get("large")
    report = {
        "memory_cap_mb": args.memory_mb,
        "time_limit_s": args.time_limit,
        "results": results,
        "target": f"large packet finishes with peak <= {TARGET_PEAK_MB} MB",
        "met": bool(large and large["status"] == "finished" and large["peak_mb"] <= TARGET_PEAK_MB),
    }
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    return report


def main() -> int:
    report = run(parse_args())
    print(f"Target ({report['target']}): {'met' if report['met'] else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
