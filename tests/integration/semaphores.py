#!/usr/bin/env python3
"""Prints the is-enabled semaphore of every torvyn probe of a running process.

Usage: semaphores.py PID  ->  lines "probe value", read from /proc/PID/mem at
the addresses the ELF notes (readelf -n) give, relocated by the load base.
An independent check of what the kernel raised: no torvyn code involved.
"""
import os
import re
import struct
import subprocess
import sys


def main():
    pid = int(sys.argv[1])
    exe = os.readlink(f"/proc/{pid}/exe")
    notes = subprocess.run(["readelf", "-n", "--wide", f"/proc/{pid}/exe"],
                           capture_output=True, text=True, check=True).stdout
    probes = re.findall(r"Provider: torvyn\s+Name: (\S+)\s+Location: \S+, Base: \S+, "
                        r"Semaphore: (0x[0-9a-f]+)", notes)
    base = None
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            f = line.split()
            if len(f) >= 6 and f[5] == exe and int(f[2], 16) == 0:
                base = int(f[0].split("-")[0], 16)
                break
    if base is None:
        sys.exit(f"no mapping of {exe} at offset 0 in /proc/{pid}/maps")
    seen = {}
    with open(f"/proc/{pid}/mem", "rb") as mem:
        for name, sem in probes:
            mem.seek(base + int(sem, 16))
            seen[name] = struct.unpack("<H", mem.read(2))[0]
    for name in sorted(seen):
        print(name, seen[name])


if __name__ == "__main__":
    main()
