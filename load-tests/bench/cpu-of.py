#!/usr/bin/env python3
"""Runs a command and appends the CPU seconds (user + system) it and its children used to a
file: `cpu-of.py FILE command args...`. Its output passes through; its exit status is kept."""
import resource
import subprocess
import sys

status = subprocess.run(sys.argv[2:]).returncode
used = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "a") as out:
    out.write(f"{used.ru_utime + used.ru_stime:.2f}\n")
sys.exit(status)
