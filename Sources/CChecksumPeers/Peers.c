#include "CChecksumPeers.h"

static inline uint32_t peer_fold(uint64_t x) {
    while (x >> 16) x = (x & 0xffff) + (x >> 16);
    return (uint32_t)x;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

uint32_t csumpeer_cpu_features(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) || !(c & (1u << 28))) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6 || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    uint32_t f = (b >> 5) & 1;
    if ((b >> 16 & 1) && (b >> 30 & 1) && (b >> 31 & 1) && (lo & 0xe0) == 0xe0) {
        f |= 2;
        if (c >> 11 & 1) f |= 4;
    }
    return f;
}

// ---- Linux-like: arch/x86/lib/csum-partial_64.c (Linux 6.x), user-space transcription ----

static inline uint64_t update_csum_40b(uint64_t sum, const unsigned char *m) {
    __asm__("addq 0*8(%[src]),%[res]\n\t"
            "adcq 1*8(%[src]),%[res]\n\t"
            "adcq 2*8(%[src]),%[res]\n\t"
            "adcq 3*8(%[src]),%[res]\n\t"
            "adcq 4*8(%[src]),%[res]\n\t"
            "adcq $0,%[res]"
            : [res] "+r"(sum)
            : [src] "r"(m), "m"(*(const char(*)[40])m));
    return sum;
}

static inline uint32_t csum_finalize_sum(uint64_t temp64) {
    uint32_t a = (uint32_t)(temp64 >> 32), b = (uint32_t)temp64;
    __asm__("addl %1,%0\n\tadcl $0,%0" : "=r"(a) : "r"(b), "0"(a));
    return a;
}

uint32_t csumpeer_linux_like(const void *buf, size_t len) {
    const unsigned char *p = buf;
    uint64_t temp64 = 0;
    if (len >= 80) {
        uint64_t temp64_2 = 0;
        do {
            temp64 = update_csum_40b(temp64, p);
            temp64_2 = update_csum_40b(temp64_2, p + 40);
            p += 80;
            len -= 80;
        } while (len >= 80);
        __asm__("addq %1,%0\n\tadcq $0,%0" : "=&r"(temp64) : "r"(temp64_2), "0"(temp64));
    }
    if (len >= 40) {
        temp64 = update_csum_40b(temp64, p);
        len -= 40;
        if (!len) return csum_finalize_sum(temp64);
        p += 40;
    }
    if (len & 32) {
        __asm__("addq 0*8(%[src]),%[res]\n\tadcq 1*8(%[src]),%[res]\n\t"
                "adcq 2*8(%[src]),%[res]\n\tadcq 3*8(%[src]),%[res]\n\tadcq $0,%[res]"
                : [res] "+r"(temp64) : [src] "r"(p), "m"(*(const char(*)[32])p));
        p += 32;
    }
    if (len & 16) {
        __asm__("addq 0*8(%[src]),%[res]\n\tadcq 1*8(%[src]),%[res]\n\tadcq $0,%[res]"
                : [res] "+r"(temp64) : [src] "r"(p), "m"(*(const char(*)[16])p));
        p += 16;
    }
    if (len & 8) {
        __asm__("addq 0*8(%[src]),%[res]\n\tadcq $0,%[res]"
                : [res] "+r"(temp64) : [src] "r"(p), "m"(*(const char(*)[8])p));
        p += 8;
    }
    if (len & 7) {
        // The kernel reads 8 bytes with load_unaligned_zeropad() and shifts the extra bytes
        // out; user space may not read past the buffer, so copy the tail instead.
        uint64_t trail = 0;
        memcpy(&trail, p, len & 7);
        __asm__("addq %[trail],%[res]\n\tadcq $0,%[res]" : [res] "+r"(temp64) : [trail] "r"(trail));
    }
    return csum_finalize_sum(temp64);
}

// ---- AVX2 peer: bias + vpmaddwd ----

__attribute__((target("avx2")))
uint32_t csumpeer_avx2(const void *buf, size_t len) {
    const unsigned char *p = buf;
    const __m256i bias = _mm256_set1_epi16((short)0x8000), ones = _mm256_set1_epi16(1);
    __m256i wide = _mm256_setzero_si256();
    uint64_t words = 0;
    while (len >= 32) {
        __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
        size_t blocks = 0;
        while (len >= 128 && blocks < 4096) {
            __m256i v0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)p), bias);
            __m256i v1 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p + 32)), bias);
            __m256i v2 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p + 64)), bias);
            __m256i v3 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p + 96)), bias);
            a0 = _mm256_add_epi32(a0, _mm256_add_epi32(_mm256_madd_epi16(v0, ones), _mm256_madd_epi16(v1, ones)));
            a1 = _mm256_add_epi32(a1, _mm256_add_epi32(_mm256_madd_epi16(v2, ones), _mm256_madd_epi16(v3, ones)));
            p += 128;
            len -= 128;
            blocks++;
            words += 64;
        }
        if (blocks == 0) {
            while (len >= 32) {
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)p), bias), ones));
                p += 32;
                len -= 32;
                words += 16;
            }
        }
        __m256i a = _mm256_add_epi32(a0, a1); // |a| <= 2^30: fits
        wide = _mm256_add_epi64(wide, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(a)));
        wide = _mm256_add_epi64(wide, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(a, 1)));
    }
    __m128i w2 = _mm_add_epi64(_mm256_castsi256_si128(wide), _mm256_extracti128_si256(wide, 1));
    uint64_t s = (uint64_t)_mm_cvtsi128_si64(w2) + (uint64_t)_mm_extract_epi64(w2, 1) + 32768u * words;
    uint64_t t = 0;
    while (len >= 2) { uint16_t x; memcpy(&x, p, 2); t += x; p += 2; len -= 2; }
    if (len) t += *p;
    uint64_t r = s + t;
    return peer_fold((r & 0xffffffffu) + (r >> 32) + (r < s));
}

// ---- AVX-512 peer: bias + VNNI vpdpwssd (or vpmaddwd) ----

#define PEER512_BODY(MADDACC)                                                                  \
    const unsigned char *p = buf;                                                              \
    const __m512i bias = _mm512_set1_epi16((short)0x8000), ones = _mm512_set1_epi16(1);       \
    __m512i wide = _mm512_setzero_si512();                                                     \
    uint64_t words = 0;                                                                        \
    while (len) {                                                                              \
        __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();                      \
        __m512i a2 = _mm512_setzero_si512(), a3 = _mm512_setzero_si512();                      \
        size_t blocks = 0;                                                                     \
        while (len >= 256 && blocks < 4096) {                                                  \
            a0 = MADDACC(a0, _mm512_xor_si512(_mm512_loadu_si512(p), bias));                   \
            a1 = MADDACC(a1, _mm512_xor_si512(_mm512_loadu_si512(p + 64), bias));              \
            a2 = MADDACC(a2, _mm512_xor_si512(_mm512_loadu_si512(p + 128), bias));             \
            a3 = MADDACC(a3, _mm512_xor_si512(_mm512_loadu_si512(p + 192), bias));             \
            p += 256;                                                                          \
            len -= 256;                                                                        \
            blocks++;                                                                          \
        }                                                                                      \
        words += blocks * 128;                                                                 \
        if (blocks == 0) {                                                                     \
            while (len) {                                                                      \
                size_t n = len < 64 ? len : 64;                                                \
                __m512i v = _mm512_maskz_loadu_epi8((__mmask64)(n == 64 ? ~0ULL : (1ULL << n) - 1), p); \
                a0 = MADDACC(a0, _mm512_xor_si512(v, bias));                                   \
                p += n;                                                                        \
                len -= n;                                                                      \
                words += 32;                                                                   \
            }                                                                                  \
        }                                                                                      \
        __m512i a = _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3));      \
        wide = _mm512_add_epi64(wide, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(a)));       \
        wide = _mm512_add_epi64(wide, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(a, 1))); \
    }                                                                                          \
    uint64_t r = (uint64_t)_mm512_reduce_add_epi64(wide) + 32768u * words;                     \
    return peer_fold((r & 0xffffffffu) + (r >> 32));

#define MADD_ADD(acc, v) _mm512_add_epi32((acc), _mm512_madd_epi16((v), ones))
#define DPWSSD(acc, v) _mm512_dpwssd_epi32((acc), (v), ones)

__attribute__((target("avx512f,avx512bw,avx512vl")))
static uint32_t peer512_madd(const void *buf, size_t len) { PEER512_BODY(MADD_ADD) }

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static uint32_t peer512_vnni(const void *buf, size_t len) { PEER512_BODY(DPWSSD) }

uint32_t csumpeer_avx512(const void *buf, size_t len) {
    static int vnni = -1;
    if (vnni < 0) vnni = (csumpeer_cpu_features() & 4) != 0;
    return vnni ? peer512_vnni(buf, len) : peer512_madd(buf, len);
}

// ---- memory-read floors ----

__attribute__((target("avx512f")))
uint64_t csumpeer_read_floor512(const void *buf, size_t len) {
    if (len < 256) return csumpeer_read_floor_small(buf, len);
    const unsigned char *p = buf;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    while (len >= 512) {
        a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(p));
        a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(p + 64));
        a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(p + 128));
        a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(p + 192));
        a4 = _mm512_add_epi64(a4, _mm512_loadu_si512(p + 256));
        a5 = _mm512_add_epi64(a5, _mm512_loadu_si512(p + 320));
        a6 = _mm512_add_epi64(a6, _mm512_loadu_si512(p + 384));
        a7 = _mm512_add_epi64(a7, _mm512_loadu_si512(p + 448));
        p += 512;
        len -= 512;
    }
    while (len >= 64) { a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(p)); p += 64; len -= 64; }
    __m512i a = _mm512_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)),
                                 _mm512_add_epi64(_mm512_add_epi64(a4, a5), _mm512_add_epi64(a6, a7)));
    return (uint64_t)_mm512_reduce_add_epi64(a) + csumpeer_read_floor_small(p, len);
}

__attribute__((target("avx2")))
uint64_t csumpeer_read_floor256(const void *buf, size_t len) {
    if (len < 256) return csumpeer_read_floor_small(buf, len);
    const unsigned char *p = buf;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    while (len >= 256) {
        a0 = _mm256_add_epi64(a0, _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)p), _mm256_loadu_si256((const __m256i *)(p + 128))));
        a1 = _mm256_add_epi64(a1, _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)(p + 32)), _mm256_loadu_si256((const __m256i *)(p + 160))));
        a2 = _mm256_add_epi64(a2, _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)(p + 64)), _mm256_loadu_si256((const __m256i *)(p + 192))));
        a3 = _mm256_add_epi64(a3, _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)(p + 96)), _mm256_loadu_si256((const __m256i *)(p + 224))));
        p += 256;
        len -= 256;
    }
    while (len >= 32) { a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)p)); p += 32; len -= 32; }
    __m256i a = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    __m128i h = _mm_add_epi64(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    return (uint64_t)_mm_cvtsi128_si64(h) + (uint64_t)_mm_extract_epi64(h, 1) + csumpeer_read_floor_small(p, len);
}

#else

// Not x86-64: no SIMD peers; portable stand-ins so the bench still builds and runs.
uint32_t csumpeer_cpu_features(void) { return 0; }

uint32_t csumpeer_linux_like(const void *buf, size_t len) {
    const unsigned char *p = buf;
    unsigned __int128 s = 0;
    while (len >= 8) { uint64_t x; memcpy(&x, p, 8); s += x; p += 8; len -= 8; }
    uint64_t t = 0;
    memcpy(&t, p, len);
    s += t;
    uint64_t r = (uint64_t)s, c = (uint64_t)(s >> 64);
    r += c;
    if (r < c) r++;
    return peer_fold((r & 0xffffffffu) + (r >> 32));
}
uint32_t csumpeer_avx2(const void *buf, size_t len) { return peer_fold(csumpeer_linux_like(buf, len)); }
uint32_t csumpeer_avx512(const void *buf, size_t len) { return peer_fold(csumpeer_linux_like(buf, len)); }
uint64_t csumpeer_read_floor512(const void *buf, size_t len) { return csumpeer_read_floor_small(buf, len); }
uint64_t csumpeer_read_floor256(const void *buf, size_t len) { return csumpeer_read_floor_small(buf, len); }

#endif

// Plain 64-bit loads and adds, eight accumulators: needs no SIMD at all.
uint64_t csumpeer_read_floor64(const void *buf, size_t len) {
    if (len < 256) return csumpeer_read_floor_small(buf, len);
    const unsigned char *p = buf;
    uint64_t a[8] = {0};
    while (len >= 64) {
        uint64_t x[8];
        memcpy(x, p, 64);
        for (int i = 0; i < 8; i++) a[i] += x[i];
        p += 64;
        len -= 64;
    }
    return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7] + csumpeer_read_floor_small(p, len);
}
