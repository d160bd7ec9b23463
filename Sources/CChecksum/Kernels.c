// SIMD one's-complement sums (see CChecksum.h). The method is described above the kernels.
#include "CChecksum.h"

#include <stdlib.h>
#include <string.h>

const char *csumlab_checksum_env(void) { return getenv("CSUMLAB_CHECKSUM"); }

csumlab_sum_fn csumlab_current_sum_cache;

void csumlab_set_current_sum(csumlab_sum_fn f) { __atomic_store_n(&csumlab_current_sum_cache, f, __ATOMIC_RELAXED); }

static inline uint64_t add_eac(uint64_t a, uint64_t b) {
    uint64_t s;
    uint64_t c = __builtin_add_overflow(a, b, &s);
    return s + c;
}

// A little-endian 64-bit sum as a network-order 32-bit partial sum added to `initial` (csum_add):
// fold to 32 bits with an end-around carry, then swap all four bytes. Swapping a 16-bit word's
// bytes multiplies it by 256 modulo 0xFFFF, so the swapped 32-bit value is congruent to the
// swapped folded sum; callers fold (the contract is an unfolded partial sum). Nonzero stays
// nonzero.
static inline uint32_t network_order32(uint64_t x, uint32_t initial) {
    uint32_t t, s;
    uint32_t c = __builtin_add_overflow((uint32_t)x, (uint32_t)(x >> 32), &t);
    t += c;
    uint32_t c2 = __builtin_add_overflow(__builtin_bswap32(t), initial, &s);
    return s + c2;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

uint32_t csumlab_cpu_features(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned osxsave = 1u << 27, avx = 1u << 28;
    if ((c & (osxsave | avx)) != (osxsave | avx)) return 0;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    uint64_t xcr0 = ((uint64_t)xhi << 32) | xlo;
    if ((xcr0 & 0x6) != 0x6) return 0; // XMM and YMM state saved by the OS
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    uint32_t f = 0;
    if (b & (1u << 5)) f |= CSUMLAB_CPU_AVX2;
    const unsigned avx512f = 1u << 16, avx512bw = 1u << 30, avx512vl = 1u << 31;
    if ((b & (avx512f | avx512bw | avx512vl)) == (avx512f | avx512bw | avx512vl) &&
        (xcr0 & 0xe6) == 0xe6) { // opmask, ZMM_Hi256, Hi16_ZMM state too
        f |= CSUMLAB_CPU_AVX512;
        if (c & (1u << 11)) f |= CSUMLAB_CPU_AVX512VNNI;
    }
    return f;
}

// Method: every 16-bit word is biased by 0x8000 (an XOR) so that it reads as a signed word
// w - 32768, and `vpmaddwd` against a vector of ones (or AVX-512 VNNI `vpdpwssd`, which also
// adds into the accumulator) sums pairs of them into signed 32-bit lanes. The bias is added back
// once at the end: 32768 × the number of words taken, zero padding included. With VNNI that is
// two vector ops per 64 bytes; on AMD Zen 4 it measured faster than adding 64-bit lanes and
// counting carries through a second accumulator of high halves (three ops per vector; the
// portable Swift path uses that method). Several accumulators hide the multiply-add latency.
//
// The input is taken in chunks of at most 64 KiB: a chunk has at most 32768 words, so every
// 32-bit lane and every partial sum of lanes stays within ±2^30 and a chunk is reduced with
// 32-bit adds; chunk results are added as 64-bit integers. One pass, no second accumulator
// level, which keeps the per-call cost low for packet-sized inputs.
//
// Nothing is read past the buffer: AVX-512 loads the last partial vector with a byte mask,
// AVX2 sums its last 0–31 bytes with scalar code.

#define CSUMLAB_CHUNK ((size_t)64 << 10)

// Horizontal sum of eight signed 32-bit lanes.
__attribute__((target("avx2")))
static inline int64_t hsum256_epi32(__m256i a) {
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4e));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xb1));
    return (int64_t)_mm_cvtsi128_si32(x);
}

#define CSUMLAB_MADD256(v) _mm256_madd_epi16(_mm256_xor_si256((v), bias), ones)
#define CSUMLAB_LOAD256(o) _mm256_loadu_si256((const __m256i *)(p + (o)))

// Signed sum of the biased words of the whole 32-byte vectors in p[0..<len], len <= 64 KiB.
__attribute__((target("avx2")))
static inline int64_t chunk_avx2(const unsigned char *p, size_t len) {
    const __m256i bias = _mm256_set1_epi16((short)0x8000), ones = _mm256_set1_epi16(1);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    while (len >= 128) {
        a0 = _mm256_add_epi32(a0, _mm256_add_epi32(CSUMLAB_MADD256(CSUMLAB_LOAD256(0)), CSUMLAB_MADD256(CSUMLAB_LOAD256(32))));
        a1 = _mm256_add_epi32(a1, _mm256_add_epi32(CSUMLAB_MADD256(CSUMLAB_LOAD256(64)), CSUMLAB_MADD256(CSUMLAB_LOAD256(96))));
        p += 128;
        len -= 128;
    }
    if (len >= 64) {
        a0 = _mm256_add_epi32(a0, CSUMLAB_MADD256(CSUMLAB_LOAD256(0)));
        a1 = _mm256_add_epi32(a1, CSUMLAB_MADD256(CSUMLAB_LOAD256(32)));
        p += 64;
        len -= 64;
    }
    if (len >= 32) a0 = _mm256_add_epi32(a0, CSUMLAB_MADD256(CSUMLAB_LOAD256(0)));
    return hsum256_epi32(_mm256_add_epi32(a0, a1));
}

__attribute__((target("avx2")))
uint32_t csumlab_sum_avx2(const void *buf, size_t len, uint32_t initial) {
    const unsigned char *p = buf;
    const size_t whole = len & ~(size_t)31;
    int64_t signed_sum = 0;
    for (size_t done = 0; done < whole; done += CSUMLAB_CHUNK) {
        size_t n = whole - done < CSUMLAB_CHUNK ? whole - done : CSUMLAB_CHUNK;
        signed_sum += chunk_avx2(p + done, n);
    }
    // The signed sum plus the bias is the exact (non-negative) sum of the words.
    uint64_t s = (uint64_t)signed_sum + 32768u * (uint64_t)(whole / 2);
    // The last 0–31 bytes, at an even offset: little-endian 64-bit words, the final 1–7 bytes
    // zero-padded on the high side; kept off the vector reduction's dependency chain.
    p += whole;
    len -= whole;
    uint64_t t = 0;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        t = add_eac(t, w);
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = 0;
        if (len & 4) { uint32_t x; memcpy(&x, p, 4); w = x; p += 4; }
        if (len & 2) { uint16_t x; memcpy(&x, p, 2); w |= (uint64_t)x << ((len & 4) * 8); p += 2; }
        if (len & 1) w |= (uint64_t)*p << ((len & 6) * 8);
        t = add_eac(t, w);
    }
    return network_order32(add_eac(s, t), initial);
}

// One AVX-512 kernel, instantiated with VNNI `vpdpwssd` and with `vpmaddwd` + add. Shape, as
// measured on AMD Zen 4 at 1500 B (`csumlab-bench`; throughput of back-to-back calls): five
// accumulators (the multiply-add latency is 4 cycles and one bias + multiply-add pair issues
// about every 1.2 cycles, so four would do in the loop; five left the fewest vector ops at
// packet sizes), 320 bytes per iteration, then whole vectors by a 4/2/1 ladder, each into a
// different accumulator, then one masked load for the last partial vector; the lanes are
// reduced with 256/128-bit adds. Eight accumulators, a `switch` on the vector count and
// `_mm512_reduce_add_epi32` cost ~10 % more at 1500 B (a throwaway C harness; the kept
// microbenchmarks are in assets/microbench).
//
// The chunk function returns the signed sum of the biased words of p[0..<len] (len <= 64 KiB;
// a partial last vector is loaded with a mask and counted as 32 words).
#define CSUMLAB_AVX512_KERNEL(NAME, TARGET, STEP)                                                    \
    __attribute__((target(TARGET)))                                                                 \
    static inline int64_t NAME##_chunk(const unsigned char *p, size_t len) {                        \
        const __m512i bias = _mm512_set1_epi16((short)0x8000), ones = _mm512_set1_epi16(1);        \
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0;                    \
        while (len >= 320) {                                                                        \
            a0 = STEP(a0, _mm512_loadu_si512(p));                                                   \
            a1 = STEP(a1, _mm512_loadu_si512(p + 64));                                              \
            a2 = STEP(a2, _mm512_loadu_si512(p + 128));                                             \
            a3 = STEP(a3, _mm512_loadu_si512(p + 192));                                             \
            a4 = STEP(a4, _mm512_loadu_si512(p + 256));                                             \
            p += 320;                                                                               \
            len -= 320;                                                                             \
        }                                                                                           \
        if (len >= 256) {                                                                           \
            a0 = STEP(a0, _mm512_loadu_si512(p));                                                   \
            a1 = STEP(a1, _mm512_loadu_si512(p + 64));                                              \
            a2 = STEP(a2, _mm512_loadu_si512(p + 128));                                             \
            a3 = STEP(a3, _mm512_loadu_si512(p + 192));                                             \
            p += 256;                                                                               \
            len -= 256;                                                                             \
        }                                                                                           \
        if (len >= 128) {                                                                           \
            a4 = STEP(a4, _mm512_loadu_si512(p));                                                   \
            a0 = STEP(a0, _mm512_loadu_si512(p + 64));                                              \
            p += 128;                                                                               \
            len -= 128;                                                                             \
        }                                                                                           \
        if (len >= 64) {                                                                            \
            a1 = STEP(a1, _mm512_loadu_si512(p));                                                   \
            p += 64;                                                                                \
            len -= 64;                                                                              \
        }                                                                                           \
        if (len)                                                                                    \
            a2 = STEP(a2, _mm512_maskz_loadu_epi8((__mmask64)((1ULL << len) - 1), p));              \
        __m512i a = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)), a4); \
        __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));  \
        __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));      \
        q = _mm_add_epi32(q, _mm_unpackhi_epi64(q, q));                                             \
        /* Four lanes of at most 2^30 in magnitude each (a chunk has <= 32768 words). */            \
        return (int64_t)_mm_cvtsi128_si32(q) + (int64_t)_mm_extract_epi32(q, 1);                    \
    }                                                                                               \
    __attribute__((target(TARGET)))                                                                 \
    static uint32_t NAME(const void *buf, size_t len, uint32_t initial) {                           \
        const unsigned char *p = buf;                                                               \
        int64_t signed_sum;                                                                         \
        if (len <= CSUMLAB_CHUNK) {                                                                 \
            signed_sum = NAME##_chunk(p, len);                                                      \
        } else {                                                                                    \
            signed_sum = 0;                                                                         \
            for (size_t done = 0; done < len; done += CSUMLAB_CHUNK) {                              \
                size_t n = len - done < CSUMLAB_CHUNK ? len - done : CSUMLAB_CHUNK;                 \
                signed_sum += NAME##_chunk(p + done, n);                                            \
            }                                                                                       \
        }                                                                                           \
        uint64_t words = (uint64_t)((len + 63) / 64) * 32;                                          \
        return network_order32((uint64_t)signed_sum + 32768u * words, initial);                     \
    }

#define CSUMLAB_DPWSSD(acc, v) _mm512_dpwssd_epi32((acc), _mm512_xor_si512((v), bias), ones)
#define CSUMLAB_MADD512(acc, v) _mm512_add_epi32((acc), _mm512_madd_epi16(_mm512_xor_si512((v), bias), ones))

CSUMLAB_AVX512_KERNEL(sum_avx512_vnni, "avx512f,avx512bw,avx512vl,avx512vnni", CSUMLAB_DPWSSD)
CSUMLAB_AVX512_KERNEL(sum_avx512_madd, "avx512f,avx512bw,avx512vl", CSUMLAB_MADD512)

uint32_t csumlab_sum_avx512_madd(const void *buf, size_t len, uint32_t initial) {
    return sum_avx512_madd(buf, len, initial);
}

// From this size on the data comes from DRAM, where on AMD Zen 4 256-bit loads stream faster
// than 512-bit ones (measured: ~25 vs ~21 GB/s at 64 MiB; the two are equal from 2 to 4 MiB).
#define CSUMLAB_STREAM_BYTES ((size_t)4 << 20)

// The entry point `InternetChecksum.sum` jumps to on a VNNI CPU: the kernel body is inlined
// here so that a packet-sized call is one call, not a chain of jumps.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
uint32_t csumlab_sum_avx512_vnni(const void *buf, size_t len, uint32_t initial) {
    if (__builtin_expect(len >= CSUMLAB_STREAM_BYTES, 0)) return csumlab_sum_avx2(buf, len, initial);
    const unsigned char *p = buf;
    if (__builtin_expect(len > CSUMLAB_CHUNK, 0)) return sum_avx512_vnni(buf, len, initial);
    uint64_t words = (uint64_t)((len + 63) / 64) * 32;
    return network_order32((uint64_t)sum_avx512_vnni_chunk(p, len) + 32768u * words, initial);
}

uint32_t csumlab_sum_avx512(const void *buf, size_t len, uint32_t initial) {
    // Read once per call: a relaxed load of a value every thread computes the same way.
    static int vnni = -1;
    int v = __atomic_load_n(&vnni, __ATOMIC_RELAXED);
    if (v < 0) {
        v = (csumlab_cpu_features() & CSUMLAB_CPU_AVX512VNNI) != 0;
        __atomic_store_n(&vnni, v, __ATOMIC_RELAXED);
    }
    if (v) return csumlab_sum_avx512_vnni(buf, len, initial);
    if (len >= CSUMLAB_STREAM_BYTES) return csumlab_sum_avx2(buf, len, initial);
    return sum_avx512_madd(buf, len, initial);
}

#else

// Not x86: no SIMD path is ever selected (`csumlab_cpu_features()` is 0), but the symbols exist
// so the Swift side links everywhere. A plain scalar loop keeps them correct if called anyway.
static uint64_t scalar_sum16le(const void *buf, size_t len) {
    const unsigned char *p = buf;
    uint64_t s = 0;
    while (len >= 2) { s = add_eac(s, (uint64_t)p[0] | (uint64_t)p[1] << 8); p += 2; len -= 2; }
    if (len) s = add_eac(s, p[0]);
    return s;
}

uint32_t csumlab_cpu_features(void) { return 0; }
uint32_t csumlab_sum_avx2(const void *buf, size_t len, uint32_t initial) {
    return network_order32(scalar_sum16le(buf, len), initial);
}
uint32_t csumlab_sum_avx512(const void *buf, size_t len, uint32_t initial) {
    return network_order32(scalar_sum16le(buf, len), initial);
}
uint32_t csumlab_sum_avx512_madd(const void *buf, size_t len, uint32_t initial) {
    return network_order32(scalar_sum16le(buf, len), initial);
}
uint32_t csumlab_sum_avx512_vnni(const void *buf, size_t len, uint32_t initial) {
    return network_order32(scalar_sum16le(buf, len), initial);
}

#endif
