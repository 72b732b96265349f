#!/usr/bin/env python3
"""exec_held.py PIDFILE MAPSFILE SECONDS CMD...: runs CMD held at its exec.

The child asks to be traced and execs CMD: the kernel stops it right after
the exec, before the dynamic loader has mapped any library. This writes the
child's PID to PIDFILE and its /proc/PID/maps of that moment to MAPSFILE,
holds it SECONDS, lets it go and waits for it (killing it when terminated).
It makes "the exec event comes before the libraries are mapped" last long
enough for a test to see what a tracer does about it.
"""
import ctypes
import os
import signal
import sys
import time

PTRACE_TRACEME, PTRACE_DETACH = 0, 17


def main():
    pidfile, mapsfile, secs, cmd = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    pid = os.fork()
    if pid == 0:
        if libc.ptrace(PTRACE_TRACEME, 0, None, None) != 0:
            os._exit(120)
        os.execv(cmd[0], cmd)
    _, status = os.waitpid(pid, 0)
    if not os.WIFSTOPPED(status):
        sys.exit(f"exec_held: {cmd[0]} did not stop at its exec (status {status:#x})")
    with open(f"/proc/{pid}/maps") as f, open(mapsfile, "w") as out:
        out.write(f.read())
    with open(pidfile, "w") as f:
        f.write(f"{pid}\n")

    def stop(*_):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        sys.exit(143)

    signal.signal(signal.SIGTERM, stop)
    time.sleep(secs)
    if libc.ptrace(PTRACE_DETACH, pid, None, None) != 0:
        sys.exit(f"exec_held: PTRACE_DETACH: {os.strerror(ctypes.get_errno())}")
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
