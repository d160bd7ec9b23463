// SIMD one's-complement sums. The idea both kernels share: the internet checksum is a sum
// modulo 0xFFFF, and 2^32 ≡ 2^64 ≡ 1 (mod 0xFFFF), so 64-bit lanes may simply be added with
// wrap-around as long as the carries that fall off are accounted for. Rather than detect each
// carry, a second accumulator adds the high 32 bits of every lane (which cannot overflow), and
// the low halves are recovered at the end: sum(lo) = sum(all) - (sum(hi) << 32) mod 2^64, exact
// because sum(lo) < 2^64. The total is then sum(lo) + sum(hi) (mod 0xFFFF). Three simple
// integer ops per vector, no dependency chain longer than one add per block of four vectors.
#include "CChecksum.h"

#include <stdlib.h>
#include <string.h>

const char *csumlab_checksum_env(void) { return getenv("CSUMLAB_CHECKSUM"); }

// Inputs are cut into chunks of at most 1 GiB so that the exact sums above never exceed 2^64
// (a lane's sum(hi) grows by < 2^32 per vector). Chunks have even length, so no byte rotation.
#define CSUMLAB_CHUNK ((size_t)1 << 30)

static inline uint64_t add_eac(uint64_t a, uint64_t b) {
    uint64_t s;
    uint64_t c = __builtin_add_overflow(a, b, &s);
    return s + c;
}

static inline uint32_t fold64(uint64_t x) {
    x = (x & 0xffffffffu) + (x >> 32);
    x = (x & 0xffffffffu) + (x >> 32);
    x = (x & 0xffffu) + (x >> 16);
    x = (x & 0xffffu) + (x >> 16);
    x = (x & 0xffffu) + (x >> 16);
    return (uint32_t)x;
}

// sum(lo) + sum(hi) given the wrapped total and the exact sum of high halves.
static inline uint64_t combine(uint64_t all, uint64_t hi) {
    uint64_t lo = all - (hi << 32);
    return add_eac(lo, hi);
}

#if defined(__x86_64__) || defined(__i386__)
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
        (xcr0 & 0xe6) == 0xe6) // opmask, ZMM_Hi256, Hi16_ZMM state too
        f |= CSUMLAB_CPU_AVX512;
    return f;
}

__attribute__((target("avx2")))
static uint64_t avx2_chunk(const unsigned char *p, size_t len) {
    __m256i all = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    while (len >= 128) {
        __m256i v0 = _mm256_loadu_si256((const __m256i *)p);
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(p + 32));
        __m256i v2 = _mm256_loadu_si256((const __m256i *)(p + 64));
        __m256i v3 = _mm256_loadu_si256((const __m256i *)(p + 96));
        __m256i t = _mm256_add_epi64(_mm256_add_epi64(v0, v1), _mm256_add_epi64(v2, v3));
        __m256i h = _mm256_add_epi64(_mm256_add_epi64(_mm256_srli_epi64(v0, 32), _mm256_srli_epi64(v1, 32)),
                                     _mm256_add_epi64(_mm256_srli_epi64(v2, 32), _mm256_srli_epi64(v3, 32)));
        all = _mm256_add_epi64(all, t);
        hi = _mm256_add_epi64(hi, h);
        p += 128;
        len -= 128;
    }
    while (len >= 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)p);
        all = _mm256_add_epi64(all, v);
        hi = _mm256_add_epi64(hi, _mm256_srli_epi64(v, 32));
        p += 32;
        len -= 32;
    }
    __m128i a2 = _mm_add_epi64(_mm256_castsi256_si128(all), _mm256_extracti128_si256(all, 1));
    __m128i h2 = _mm_add_epi64(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1));
    uint64_t a = (uint64_t)_mm_cvtsi128_si64(a2) + (uint64_t)_mm_extract_epi64(a2, 1);
    uint64_t h = (uint64_t)_mm_cvtsi128_si64(h2) + (uint64_t)_mm_extract_epi64(h2, 1);
    uint64_t s = combine(a, h);
    // Tail of < 32 bytes at an even offset: little-endian 64-bit words, then the last 0–7
    // bytes zero-padded on the high side.
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        s = add_eac(s, w);
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = 0;
        if (len & 4) { uint32_t x; memcpy(&x, p, 4); w = x; p += 4; }
        if (len & 2) { uint16_t x; memcpy(&x, p, 2); w |= (uint64_t)x << ((len & 4) * 8); p += 2; }
        if (len & 1) w |= (uint64_t)*p << ((len & 6) * 8);
        s = add_eac(s, w);
    }
    return s;
}

__attribute__((target("avx2")))
uint32_t csumlab_sum16le_avx2(const void *buf, size_t len) {
    const unsigned char *p = buf;
    uint64_t s = 0;
    while (len > CSUMLAB_CHUNK) {
        s = add_eac(s, avx2_chunk(p, CSUMLAB_CHUNK));
        p += CSUMLAB_CHUNK;
        len -= CSUMLAB_CHUNK;
    }
    return fold64(add_eac(s, avx2_chunk(p, len)));
}

__attribute__((target("avx512f,avx512bw,avx512vl")))
static uint64_t avx512_chunk(const unsigned char *p, size_t len) {
    __m512i all = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
    while (len >= 256) {
        __m512i v0 = _mm512_loadu_si512(p);
        __m512i v1 = _mm512_loadu_si512(p + 64);
        __m512i v2 = _mm512_loadu_si512(p + 128);
        __m512i v3 = _mm512_loadu_si512(p + 192);
        __m512i t = _mm512_add_epi64(_mm512_add_epi64(v0, v1), _mm512_add_epi64(v2, v3));
        __m512i h = _mm512_add_epi64(_mm512_add_epi64(_mm512_srli_epi64(v0, 32), _mm512_srli_epi64(v1, 32)),
                                     _mm512_add_epi64(_mm512_srli_epi64(v2, 32), _mm512_srli_epi64(v3, 32)));
        all = _mm512_add_epi64(all, t);
        hi = _mm512_add_epi64(hi, h);
        p += 256;
        len -= 256;
    }
    while (len >= 64) {
        __m512i v = _mm512_loadu_si512(p);
        all = _mm512_add_epi64(all, v);
        hi = _mm512_add_epi64(hi, _mm512_srli_epi64(v, 32));
        p += 64;
        len -= 64;
    }
    if (len) {
        // A masked load reads only the tail bytes (no fault past the end); the rest are zero,
        // which pads an odd last byte on the high side of its little-endian word.
        __m512i v = _mm512_maskz_loadu_epi8((__mmask64)((1ULL << len) - 1), p);
        all = _mm512_add_epi64(all, v);
        hi = _mm512_add_epi64(hi, _mm512_srli_epi64(v, 32));
    }
    return combine((uint64_t)_mm512_reduce_add_epi64(all), (uint64_t)_mm512_reduce_add_epi64(hi));
}

__attribute__((target("avx512f,avx512bw,avx512vl")))
uint32_t csumlab_sum16le_avx512(const void *buf, size_t len) {
    const unsigned char *p = buf;
    uint64_t s = 0;
    while (len > CSUMLAB_CHUNK) {
        s = add_eac(s, avx512_chunk(p, CSUMLAB_CHUNK));
        p += CSUMLAB_CHUNK;
        len -= CSUMLAB_CHUNK;
    }
    return fold64(add_eac(s, avx512_chunk(p, len)));
}

#else

// Not x86: no SIMD path is ever selected (`csumlab_cpu_features()` is 0), but the symbols exist
// so the Swift side links everywhere. A plain scalar loop keeps them correct if called anyway.
static uint32_t scalar_sum16le(const void *buf, size_t len) {
    const unsigned char *p = buf;
    uint64_t s = 0;
    while (len >= 2) { s = add_eac(s, (uint64_t)p[0] | (uint64_t)p[1] << 8); p += 2; len -= 2; }
    if (len) s = add_eac(s, p[0]);
    return fold64(s);
}

uint32_t csumlab_cpu_features(void) { return 0; }
uint32_t csumlab_sum16le_avx2(const void *buf, size_t len) { return scalar_sum16le(buf, len); }
uint32_t csumlab_sum16le_avx512(const void *buf, size_t len) { return scalar_sum16le(buf, len); }

#endif
