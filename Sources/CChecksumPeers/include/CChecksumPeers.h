#ifndef CCHECKSUMPEERS_H
#define CCHECKSUMPEERS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/// Bench-only peers for csumlab-bench, written independently of csumlab's own kernels
/// (CChecksum) so that the benchmark compares against something csumlab did not tune. C is
/// used because the peers are C code in the wild (Linux) and need per-function ISA attributes.

/// Bit 0: AVX2 usable; bit 1: AVX-512 F/BW/VL usable; bit 2: AVX-512 VNNI usable too.
uint32_t csumpeer_cpu_features(void);

/// Linux 6.x `csum_partial()` for x86-64 (arch/x86/lib/csum-partial_64.c): two chains of
/// 40-byte `adcq` blocks, then 32/16/8-byte blocks and a zero-padded tail; no alignment work.
/// Returns the 32-bit `__wsum` of little-endian words (fold it to compare).
uint32_t csumpeer_linux_like(const void *buf, size_t len);

/// The strongest AVX2 peer: words biased by 0x8000 and pair-summed with `vpmaddwd` into 32-bit
/// lanes, four vectors per iteration, widened to 64 bits every 16 Ki vectors. Returns the sum
/// of little-endian words folded to 16 bits. Traps without AVX2.
uint32_t csumpeer_avx2(const void *buf, size_t len);

/// The strongest AVX-512 peer: the same bias, with `vpdpwssd` (VNNI, multiply-add into the
/// accumulator in one instruction) where the CPU has it, else `vpmaddwd` + add; masked tail
/// load. Returns the folded little-endian sum. Traps without AVX-512 F/BW/VL.
uint32_t csumpeer_avx512(const void *buf, size_t len);

/// Memory-read floors: loops that only load and add (no checksum arithmetic), one per load
/// width, 512 bytes per iteration into several accumulators. Which width streams fastest depends
/// on the size and the machine (on AMD Zen 4, 512-bit from L1/L2, narrower ones from DRAM), so
/// the bench times all three and takes the fastest as "the" floor. Each returns a value only so
/// that the loads are not dead. The 512- and 256-bit ones trap without AVX-512F / AVX2.
uint64_t csumpeer_read_floor512(const void *buf, size_t len);
uint64_t csumpeer_read_floor256(const void *buf, size_t len);
uint64_t csumpeer_read_floor64(const void *buf, size_t len);

/// Memory-read floor for short inputs (the floors above use it below 256 bytes), inlined into
/// the caller like csumlab's short path: 64-bit loads and plain adds, then the tail bytes.
static inline uint64_t csumpeer_read_floor_small(const void *buf, size_t len) {
    const unsigned char *p = (const unsigned char *)buf;
    uint64_t a = 0, b = 0, c = 0, d = 0;
    while (len >= 32) {
        uint64_t x[4];
        memcpy(x, p, 32);
        a += x[0];
        b += x[1];
        c += x[2];
        d += x[3];
        p += 32;
        len -= 32;
    }
    if (len & 16) { uint64_t x[2]; memcpy(x, p, 16); a += x[0]; b += x[1]; p += 16; }
    if (len & 8) { uint64_t x; memcpy(&x, p, 8); c += x; p += 8; }
    if (len & 4) { uint32_t x; memcpy(&x, p, 4); d += x; p += 4; }
    if (len & 2) { uint16_t x; memcpy(&x, p, 2); a += x; p += 2; }
    if (len & 1) b += *p;
    return (a + b) + (c + d);
}

#endif
