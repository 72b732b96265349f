#!/usr/bin/env python3
"""Live level switching on a running host, measured.

Runs steady.json (20000 elements/s) for N elements, attached at production,
and switches production -> diagnostic -> production -> off -> production while
flows run, three times over. Asserts: each kind of switch completes in < 100 ms
at least once of its three repetitions (the others may meet a busy machine); the
host does not pause > 2 ms because of a switch (the host logs every component
step that took longer than 200 us, voluntary queue waits excluded; a pause the
switch causes shows in every repetition of that switch, while this VM's own
scheduling hiccups do not, so each kind of switch must have one repetition
without such a pause; the 2 ms are over the machine's own pauses: the median
of the largest pause in a window as long as each switch that starts, 100 ms
after it, with the same command asking the level and switching nothing; 0 on
a quiet machine, a scheduler slice when the cores are busy;
when only that fails, the exit code is 3); diagnostic-only series appear, then stop growing once
diagnostic is detached; no counter ever decreases; after the run every counter
equals the host's summary. Prints the measured figures as JSON last.
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST = os.path.join(ROOT, "build/torvyn-host")
TRACE = os.path.join(ROOT, "build/torvyn-trace")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prom_check  # noqa: E402

N = 150000
CYCLES = 3
SEQUENCE = ["diagnostic", "production", "off", "production"]
PORT = int(os.environ.get("PORT", "19611"))
MAX_SWITCH_MS = 100.0
MAX_PAUSE_MS = 2.0
CONTROL_AFTER_S = 0.1


def scrape():
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=5) as r:
        return prom_check.unhost(r.read().decode())


def series(text, name):
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, val = line.rsplit(" ", 1)
            out[key] = float(val)
    return out


def level(pid, lvl):
    t0 = time.monotonic_ns()
    p = subprocess.run([TRACE, "level", "--pid", str(pid), lvl], capture_output=True, text=True)
    t1 = time.monotonic_ns()
    if p.returncode != 0:
        sys.exit(f"FAIL: level {lvl} exited {p.returncode}: {p.stderr.strip()}")
    m = re.search(r"switched in ([0-9.]+) ms", p.stdout)
    if not m:
        sys.exit(f"FAIL: level {lvl}: unexpected output {p.stdout!r}")
    return float(m.group(1)), t0, t1


def query(pid):
    """Asks the session for its level, switching nothing; returns when it started."""
    t0 = time.monotonic_ns()
    p = subprocess.run([TRACE, "level", "--pid", str(pid)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: level (a query) exited {p.returncode}: {p.stderr.strip()}")
    return t0


def main():
    tmp = sys.argv[1]
    summary, gaps = os.path.join(tmp, "summary.json"), os.path.join(tmp, "gaps.jsonl")
    host = subprocess.Popen([HOST, "run", os.path.join(ROOT, "tests/integration/pipelines/steady.json"),
                             "--elements", str(N), "--wait-attach", "--summary", summary,
                             "--gap-log", gaps, "--gap-threshold", "200us"])
    trace = subprocess.Popen([TRACE, "attach", "--pid", str(host.pid), "--listen",
                              f"127.0.0.1:{PORT}", "-q"])
    try:
        deadline = time.time() + 20
        while True:
            try:
                scrape()
                break
            except OSError:
                if time.time() > deadline or trace.poll() is not None:
                    sys.exit("FAIL: torvyn-trace did not serve /metrics")
                time.sleep(0.05)
        time.sleep(0.5)
        scrapes, switches, frozen = [scrape()], [], []
        for cycle in range(CYCLES):
            for i, lvl in enumerate(SEQUENCE):
                ms, t0, t1 = level(host.pid, lvl)
                time.sleep(CONTROL_AFTER_S)
                switches.append({"to": lvl, "from": SEQUENCE[i - 1] if i else "production",
                                 "cycle": cycle, "ms": ms, "t0": t0, "t1": t1,
                                 "c0": query(host.pid)})
                time.sleep(max(0.0, 0.3 - CONTROL_AFTER_S - (time.monotonic_ns() - t1) / 1e9))
                scrapes.append(scrape())
                if cycle == 0 and i == 1:
                    # diagnostic detached: its series must not move any more
                    time.sleep(0.3)
                    frozen = [scrapes[-1], scrape()]
                    scrapes.append(frozen[-1])
        if host.wait(timeout=60) != 0:
            sys.exit(f"FAIL: torvyn-host exited {host.returncode}")
        deadline = time.time() + 10
        while "torvyn_trace_target_up 0" not in scrapes[-1]:
            if time.time() > deadline:
                sys.exit("FAIL: target_up never went to 0")
            time.sleep(0.05)
            scrapes.append(scrape())
        final = scrapes[-1]
    finally:
        for p in (trace, host):
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)

    # diagnostic series: absent at production, present after the switch, frozen after
    diag = "torvyn_diagnostic_invocations_total"
    if series(scrapes[0], diag):
        sys.exit("FAIL: diagnostic series before diagnostic was attached")
    d1 = series(scrapes[1], diag)
    if len(d1) != 3 or min(d1.values()) <= 0:
        sys.exit(f"FAIL: diagnostic series after the switch: {d1}")
    d2, d3 = series(frozen[0], diag), series(frozen[1], diag)
    if d2 != d3:
        sys.exit(f"FAIL: diagnostic series kept growing after detach: {d2} {d3}")
    print(f"ok: diagnostic series appeared ({len(d1)}) and stopped growing")

    # monotonic across every scrape
    for a, b in zip(scrapes, scrapes[1:]):
        _, bad = prom_check.check_monotonic(prom_check.parse(a), prom_check.parse(b))
        if bad:
            sys.exit("FAIL: counters decreased: " + "; ".join(bad[:10]))
    print(f"ok: no counter decreased across {len(scrapes)} scrapes")

    # the totals equal the ground truth (histograms only count while a level
    # is attached, so their _count is not compared here)
    with open(summary) as f:
        truth = json.load(f)
    checked, errors = prom_check.check_summary(truth, prom_check.parse(final))
    errors = [e for e in errors if "processing_time_seconds_count" not in e
              and "queue_wait_time_seconds_count" not in e]
    if errors:
        sys.exit("FAIL: final totals differ from the summary: " + "; ".join(errors[:10]))
    inv = [c["invocations"] for c in truth["flows"][0]["components"]]
    if inv != [N, N, N]:
        sys.exit(f"FAIL: summary invocations {inv}")
    print(f"ok: {checked} final counters equal the host's summary")

    # switch time and host pauses during switches, and in a control window of
    # the same length that starts with a level query (the same command,
    # switching nothing) after each switch: the pauses of the machine and of
    # starting the command, against which a switch's own are judged
    with open(gaps) as f:
        pauses = [json.loads(line) for line in f]

    def largest_pause(t0, t1):
        inw = [g["gap_ns"] / 1e6 for g in pauses
               if g["end_ns"] - g["gap_ns"] <= t1 and g["end_ns"] >= t0]
        return max(inw) if inw else 0.0

    for s in switches:
        s["pause_ms"] = largest_pause(s["t0"], s["t1"])
        s["control_ms"] = largest_pause(s["c0"], s["c0"] + s["t1"] - s["t0"])
    controls = sorted(s["control_ms"] for s in switches)
    noise_ms = controls[len(controls) // 2]
    max_pause_ms = MAX_PAUSE_MS + noise_ms
    kinds = {}
    for s in switches:
        kinds.setdefault(f'{s["from"]}->{s["to"]}', []).append(s)
    report = {"switch_ms": {}, "host_pause_ms": {}, "control_pause_ms": [round(c, 2) for c in controls],
              "allowed_pause_ms": round(max_pause_ms, 2)}
    failed, paused = [], []
    for kind, ss in kinds.items():
        report["switch_ms"][kind] = [round(s["ms"], 1) for s in ss]
        report["host_pause_ms"][kind] = [round(s["pause_ms"], 2) for s in ss]
        # as with pauses: a switch slow by design is slow every time, while
        # a loaded machine's scheduling delays one repetition, not all three
        if min(s["ms"] for s in ss) >= MAX_SWITCH_MS:
            failed.append(f"{kind} took >= {MAX_SWITCH_MS} ms every time: "
                          f"{report['switch_ms'][kind]}")
        if min(s["pause_ms"] for s in ss) > max_pause_ms:
            paused.append(f"{kind} paused the host > {max_pause_ms:.2f} ms every time "
                          f"({MAX_PAUSE_MS} ms over the median {noise_ms:.2f} ms of the "
                          f"windows without a switch): {report['host_pause_ms'][kind]}")
    report["max_switch_ms"] = round(max(s["ms"] for s in switches), 1)
    report["host_max_step_ms_whole_run"] = round(truth["max_gap_ns"] / 1e6, 2)
    print(json.dumps(report))
    if failed or paused:
        print("FAIL: " + "; ".join(failed + paused), file=sys.stderr)
        # timing only: exit 3, and the caller runs it again (see test_level_switch.sh)
        sys.exit(3)
    print("ok: switches and pauses within budget")


if __name__ == "__main__":
    main()
