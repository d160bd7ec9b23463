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

/// Memory-read floor for large inputs: vector loads and one add per vector into four
/// accumulators, no checksum arithmetic; 512-bit loads where they are fastest (below 4 MiB),
/// 256-bit ones above. Returns a value only so the loads
/// are not dead.
uint64_t csumpeer_read_floor_simd(const void *buf, size_t len);

/// Memory-read floor for short inputs, inlined into the caller like csumlab's short path:
/// 64-bit loads and plain adds, then the 0–7 tail bytes.
static inline uint64_t csumpeer_read_floor_small(const void *buf, size_t len) {
    const unsigned char *p = (const unsigned char *)buf;
    uint64_t a = 0, b = 0;
    while (len >= 16) {
        uint64_t x, y;
        memcpy(&x, p, 8);
        memcpy(&y, p + 8, 8);
        a += x;
        b += y;
        p += 16;
        len -= 16;
    }
    if (len >= 8) { uint64_t x; memcpy(&x, p, 8); a += x; p += 8; len -= 8; }
    if (len & 4) { uint32_t x; memcpy(&x, p, 4); b += x; p += 4; }
    if (len & 2) { uint16_t x; memcpy(&x, p, 2); a += x; p += 2; }
    if (len & 1) b += *p;
    return a + b;
}

/// The floor as the bench times it: the inlined loop below 256 bytes, the SIMD loop above.
static inline uint64_t csumpeer_read_floor(const void *buf, size_t len) {
    return len < 256 ? csumpeer_read_floor_small(buf, len) : csumpeer_read_floor_simd(buf, len);
}

#endif
