#!/bin/sh
# Microbenchmarks behind the explanations in assets/benchmarks.md (x86-64 with AVX-512 VNNI).
# Run from this directory: sh run.sh. Figures are in core cycles (TSC × the measured core/TSC
# ratio, hard-coded as 1.385 from core-clock on the machine the notes describe) or GB/s.
set -e
out=${TMPDIR:-/tmp}/csumlab-microbench
mkdir -p "$out"
cc=${CC:-clang}
$cc -O2 -o "$out/core-clock" core-clock.c && echo "== core clock / TSC" && "$out/core-clock"
$cc -O2 -o "$out/vnni-pipes" vnni-pipes.c && echo "== 512-bit op throughput (cycles per group of 8 / per 64 B)" && "$out/vnni-pipes"
$cc -O2 -o "$out/bias-and-dpwssd" bias-and-dpwssd.c && echo "== bias XOR + vpdpwssd from memory (cycles per 64 B)" && "$out/bias-and-dpwssd"
$cc -O2 -o "$out/call-cost" call-cost.c && echo "== call + return (core cycles)" && "$out/call-cost"
$cc -O2 -o "$out/dram-floors" dram-floors.c ../../Sources/CChecksumPeers/Peers.c ../../Sources/CChecksum/Kernels.c \
    -I../../Sources/CChecksumPeers/include -I../../Sources/CChecksum/include && echo "== 64 MiB read loops vs kernels (GB/s)" && "$out/dram-floors"
