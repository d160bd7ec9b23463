#!/usr/bin/env python3
"""Randomized verify campaign over the tunnel settings of the vxlan labs (issue #16).

Usage (as root, from anywhere):
  random_campaign.py [--seed N] [--runs N] [--minutes M] [--lab FILE ...] [--csumlab PATH]

For every run it picks a lab (round robin over topologies/vxlan-*.yaml unless --lab is given),
draws a random combination of the settings that matter to tunnels, asks `csumlab trace` whether
the validator accepts it (exit 65, or exit 1 with "after --set: …": refused, counted and skipped), then runs
`csumlab verify FILE --set ...` and reads its "compared N, not checkable N, mismatched N" line.
The seed decides every draw: the same seed and csumlab give the same --set lines.

Settings drawn (each one independently, with probability P_SET, to a random value):
  vxlan nodes: udpcsum auto/on/off and outer-masquerade on/off (IPv4 underlay),
               udp6zerocsumtx/udp6zerocsumrx on/off (IPv6 underlay),
               tx (spelt tx or tx-checksum-ip-generic), tso, gso, gro, sg;
  veth ends of the underlay (including a router's): tx, rx, tso, gso, gro, sg;
  routers: flavour netns/vm/userspace; with --netfilter also masquerade (off or one of its
           interfaces) and conntrack-checksum on/off (off by default, so that the draws of the
           seeds recorded before it stay the same);
  bridges: with --bridges, br-netfilter on/off (session 14; a flag for the same reason) and
  promisc on/off (session 15).
"""
import argparse
import glob
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import sys
import time

import yaml

P_SET = 0.35
ONOFF = ["on", "off"]
RESULT = re.compile(r"compared (\d+), not checkable (\d+), mismatched (\d+)")


def settings(path, netfilter=False, bridges=False):
    """(name, values) pairs a run may draw for the lab in `path`."""
    with open(path) as f:
        doc = yaml.safe_load(f)
    out = []
    for name, node in (doc.get("nodes") or {}).items():
        kind = node.get("kind")
        if kind == "vxlan":
            v6 = ":" in str(node.get("local", ""))
            if v6:
                out += [(f"{name}.udp6zerocsumtx", ONOFF), (f"{name}.udp6zerocsumrx", ONOFF)]
            else:
                out += [(f"{name}.udpcsum", ["auto", "on", "off"]), (f"{name}.outer-masquerade", ONOFF)]
            out.append((f"{name}.{{tx}}", ONOFF))
            out += [(f"{name}.{k}", ONOFF) for k in ("tso", "gso", "gro", "sg")]
        elif kind == "veth":
            for end in (node.get("ends") or {}):
                out += [(f"{name}.{end}.{k}", ONOFF) for k in ("tx", "rx", "tso", "gso", "gro", "sg")]
        elif kind == "bridge" and bridges:
            out.append((f"{name}.br-netfilter", ONOFF))
            out.append((f"{name}.promisc", ONOFF))
        elif kind == "router":
            out.append((f"{name}.flavour", ["netns", "vm", "userspace"]))
            if netfilter:
                out.append((f"{name}.masquerade", ["off"] + list((node.get("interfaces") or {}).keys())))
                out.append((f"{name}.conntrack-checksum", ONOFF))
    return out


def draw(rng, items):
    sets = []
    for key, values in items:
        if rng.random() < P_SET:
            if "{tx}" in key:
                key = key.replace("{tx}", rng.choice(["tx", "tx-checksum-ip-generic"]))
            sets.append(f"{key}={rng.choice(values)}")
    return sets


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--runs", type=int, default=150, help="verify runs to make (refused draws not counted)")
    ap.add_argument("--minutes", type=float, default=None, help="stop after this long")
    ap.add_argument("--lab", action="append", default=None)
    ap.add_argument("--netfilter", action="store_true", help="routers also draw masquerade and conntrack-checksum")
    ap.add_argument("--bridges", action="store_true", help="bridges draw br-netfilter and promisc")
    ap.add_argument("--csumlab", default=os.path.join(root, ".build", "debug", "csumlab"))
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    labs = a.lab or sorted(glob.glob(os.path.join(root, "topologies", "vxlan-*.yaml")))
    labs = [os.path.relpath(l, root) for l in labs]
    items = {lab: settings(os.path.join(root, lab), a.netfilter, a.bridges) for lab in labs}
    os.chdir(root)
    # Run a copy: a rebuild during the campaign must neither change the binary under it nor
    # fail on a busy executable.
    work = tempfile.mkdtemp(prefix="csumlab-campaign-")
    a.csumlab = shutil.copy2(a.csumlab, os.path.join(work, "csumlab"))
    print(f"seed {seed}; labs {' '.join(labs)}; P(set) {P_SET}", flush=True)
    deadline = time.time() + a.minutes * 60 if a.minutes else None
    runs = refused = compared = notcheck = mismatched = errors = 0
    bad = []
    attempt = 0
    def stop(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        while runs < a.runs and (deadline is None or time.time() < deadline):
            lab = labs[attempt % len(labs)]
            attempt += 1
            sets = draw(rng, items[lab])
            args = [x for s in sets for x in ("--set", s)]
            line = " ".join(f"--set {s}" for s in sets)
            t = subprocess.run([a.csumlab, "trace", lab] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if t.returncode != 0:
                # 65: refused by the validator; 1 with "after --set: …": the set made the lab invalid.
                refused += 1
                why = t.stderr.strip().splitlines()[-1] if t.stderr.strip() else "?"
                print(f"refused  rc={t.returncode} {lab} {line}: {why}", flush=True)
                continue
            runs += 1
            v = subprocess.run([a.csumlab, "verify", lab] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            m = RESULT.findall(v.stdout)
            if not m:
                errors += 1
                tail = v.stdout.strip().splitlines()[-1:] or ["?"]
                print(f"run {runs:3} ERROR rc={v.returncode} {lab} {line}: {tail[0]}", flush=True)
                bad.append((lab, line, "error"))
                continue
            c, n, mm = (int(x) for x in m[-1])
            compared += c
            notcheck += n
            mismatched += mm
            err = ", ERROR" in v.stdout
            if err:
                errors += 1
            print(f"run {runs:3} rc={v.returncode} {lab} {line or '(no --set)'}: compared {c}, not checkable {n}, mismatched {mm}{', ERROR' if err else ''}", flush=True)
            if mm or err:
                bad.append((lab, line, f"mismatched {mm}" + (" ERROR" if err else "")))
    except KeyboardInterrupt:
        print("stopped early", flush=True)
    print(f"== seed {seed}: {runs} verify runs over {len(labs)} labs, {refused} draws refused by the validator; "
          f"compared {compared}, not checkable {notcheck}, mismatched {mismatched}, runs with errors {errors}")
    for lab, line, what in bad:
        print(f"disagreement: {lab} {line}: {what}")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
