#!/usr/bin/env python3
"""make bench: what each level costs the reference workload, measured.

One run, interleaved repetitions of five configurations on three-stage.json:
probes compiled out (the baseline), Level 0 (probes built in, nothing
attached), Level 1 (torvyn-trace attached, production), Level 2 (attached,
diagnostic) and bpftrace counting invocations per component on the same
probe (the outside reference, with the host at production like Level 2).
Per configuration: throughput (elements/s from the host's own run time),
ns of overhead per element against the baseline and the throughput change,
min/median/max over the repetitions; and callgrind instructions per element
for compiled-out vs Level 0. Writes build/bench/overhead.json, prints a table.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIPE = os.path.join(ROOT, "user/host/pipelines/three-stage.json")
HOST = os.path.join(ROOT, "build/torvyn-host")
NOPROBES = os.path.join(ROOT, "build/torvyn-host-noprobes")
TRACE = os.path.join(ROOT, "build/torvyn-trace")
N = int(os.environ.get("BENCH_ELEMENTS", "300000"))
REPS = int(os.environ.get("BENCH_REPS", "5"))
PORT = int(os.environ.get("BENCH_PORT", "19791"))
BUDGET = {"level1_ns": 500, "level1_pct": 1.0, "level2_ns": 2000, "level0_ratio": 1.01}


def run_host(binary, tmp, attach=None):
    summary = os.path.join(tmp, "summary.json")
    args = [binary, "run", PIPE, "--elements", str(N), "--summary", summary]
    helpers = []
    if attach:
        args.append("--wait-attach")
    host = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    try:
        if attach == "bpftrace":
            script = ("usdt:%s:torvyn:component__invoke { @[arg1] = count(); }\n"
                      "usdt:%s:torvyn:gate__production { }\n" % (binary, binary))
            helpers.append(subprocess.Popen(["bpftrace", "-p", str(host.pid), "-e", script],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        elif attach:
            helpers.append(subprocess.Popen([TRACE, "attach", "--pid", str(host.pid), "--level",
                                             attach, "--listen", f"127.0.0.1:{PORT}", "-q",
                                             "--exit-with-target"]))
        # the host's own CPU time: uprobe handlers run in its threads, so they count
        _, status, ru = os.wait4(host.pid, 0)
        host.returncode = os.waitstatus_to_exitcode(status)
        if host.returncode != 0:
            sys.exit(f"torvyn-host exited {host.returncode} ({attach})")
    finally:
        for h in helpers:
            if h.poll() is None:
                h.send_signal(2)
            try:
                h.wait(timeout=20)
            except subprocess.TimeoutExpired:
                h.kill()
    with open(summary) as f:
        s = json.load(f)
    return s["run_seconds"], ru.ru_utime + ru.ru_stime


def callgrind():
    out = subprocess.run([os.path.join(ROOT, "tools/level0-cost.sh")], capture_output=True,
                         text=True)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": out.stderr.strip()[-500:]}


def main():
    configs = [("compiled_out", NOPROBES, None), ("level0", HOST, None),
               ("level1", HOST, "production"), ("level2", HOST, "diagnostic"),
               ("bpftrace", HOST, "bpftrace")]
    secs = {name: [] for name, _, _ in configs}
    cpu = {name: [] for name, _, _ in configs}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(REPS):
            for name, binary, attach in configs:
                wall, c = run_host(binary, tmp, attach)
                secs[name].append(wall)
                cpu[name].append(c)
            print(f"  repetition {rep + 1}/{REPS} done", file=sys.stderr)
    base = statistics.median(secs["compiled_out"])
    base_cpu = statistics.median(cpu["compiled_out"])
    result = {"workload": "three-stage.json", "elements_per_run": N, "repetitions": REPS,
              "machine": os.uname().release + " " + os.uname().machine + f", {os.cpu_count()} CPUs",
              "levels": {}}
    for name, _, _ in configs:
        s = secs[name]
        thr = sorted(N / x for x in s)
        # overhead per element of each repetition against the baseline's median
        ovh = sorted((x - base) / N * 1e9 for x in s)
        chg = sorted((N / x - N / base) / (N / base) * 100 for x in s)
        result["levels"][name] = {
            "elements_per_sec": {"min": round(thr[0]), "median": round(statistics.median(thr)),
                                 "max": round(thr[-1])},
            "overhead_ns_per_element": {"min": round(ovh[0], 1),
                                        "median": round(statistics.median(ovh), 1),
                                        "max": round(ovh[-1], 1)},
            "throughput_change_pct": {"min": round(chg[0], 2),
                                      "median": round(statistics.median(chg), 2),
                                      "max": round(chg[-1], 2)},
            # CPU time of the host per element: steadier than wall time here,
            # where three threads share two CPUs
            "cpu_ns_per_element": round(statistics.median(cpu[name]) / N * 1e9, 1),
            "cpu_overhead_ns_per_element": round(
                (statistics.median(cpu[name]) - base_cpu) / N * 1e9, 1),
        }
    result["callgrind_level0"] = callgrind()
    L = result["levels"]
    result["budgets"] = {
        "level0_instruction_ratio": {"budget": BUDGET["level0_ratio"],
                                     "measured": result["callgrind_level0"].get("ratio")},
        "level0_own_code_instruction_ratio": {
            "budget": BUDGET["level0_ratio"],
            "measured": result["callgrind_level0"].get("own_code_ratio")},
        "level1_ns_per_element": {"budget": BUDGET["level1_ns"],
                                  "measured": L["level1"]["overhead_ns_per_element"]["median"]},
        "level1_throughput_pct": {"budget": -BUDGET["level1_pct"],
                                  "measured": L["level1"]["throughput_change_pct"]["median"]},
        "level2_ns_per_element": {"budget": BUDGET["level2_ns"],
                                  "measured": L["level2"]["overhead_ns_per_element"]["median"]},
    }
    os.makedirs(os.path.join(ROOT, "build/bench"), exist_ok=True)
    with open(os.path.join(ROOT, "build/bench/overhead.json"), "w") as f:
        json.dump(result, f, indent=2)

    print(f"\nthree-stage.json, {N} elements a run, {REPS} interleaved repetitions "
          f"({result['machine']})\n")
    print(f"{'configuration':14} {'elements/s (min / median / max)':>36} "
          f"{'wall ns/element':>16} {'throughput':>11} {'CPU ns/element':>15} {'CPU overhead':>13}")
    for name, _, _ in configs:
        t, o, c = L[name]["elements_per_sec"], L[name]["overhead_ns_per_element"], \
            L[name]["throughput_change_pct"]
        print(f"{name:14} {t['min']:>11,} / {t['median']:>9,} / {t['max']:>9,} "
              f"{o['median']:>+13.0f} ns {c['median']:>+9.2f} % {L[name]['cpu_ns_per_element']:>12.0f} ns "
              f"{L[name]['cpu_overhead_ns_per_element']:>+10.0f} ns")
    cg = result["callgrind_level0"]
    if "ratio" in cg:
        ipe, own = cg["instructions_per_element"], cg["own_code_instructions_per_element"]
        print(f"\ncallgrind instructions/element (median of {cg['runs_each']}): compiled out "
              f"{ipe['probes_compiled_out']}, Level 0 {ipe['level0_probes_built_in']}, ratio "
              f"{cg['ratio']} (budget 1.01); the host's own code: {own['probes_compiled_out']} vs "
              f"{own['level0_probes_built_in']}, ratio {cg['own_code_ratio']}")
    print("\nbudgets: Level 0 <= 1.01x instructions; Level 1 < 500 ns/element and < 1 % "
          "throughput; Level 2 < 2000 ns/element")
    for k, v in result["budgets"].items():
        print(f"  {k:28} measured {v['measured']}  budget {v['budget']}")
    print("\nwritten: build/bench/overhead.json")


if __name__ == "__main__":
    main()
