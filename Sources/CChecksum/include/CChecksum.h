#ifndef CCHECKSUM_H
#define CCHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/// SIMD kernels for csumlab's internet checksum. C is used because Swift cannot compile one
/// function for AVX2/AVX-512 and another for the baseline in the same module: each kernel here
/// carries its own `__attribute__((target(...)))`, and `csumlab_cpu_features()` (CPUID + XGETBV)
/// says which of them this CPU and OS can run. No ISA flag is set for the whole target.

/// Bit set in `csumlab_cpu_features()` when AVX2 can run (CPU flag and OS-saved YMM state).
#define CSUMLAB_CPU_AVX2 1u
/// Bit set when AVX-512 F+BW+VL can run (CPU flags and OS-saved ZMM/opmask state).
#define CSUMLAB_CPU_AVX512 2u
/// Bit set when AVX-512 VNNI can run too (the avx512 kernel then uses `vpdpwssd`).
#define CSUMLAB_CPU_AVX512VNNI 4u

/// CPUID + XGETBV probe; 0 on a CPU that is not x86-64.
uint32_t csumlab_cpu_features(void);

/// One's-complement sum of the `len` bytes at `buf` taken as big-endian 16-bit words (an odd
/// last byte padded with zero on the right), added with end-around carry to the partial sum
/// `initial`: the same contract as Swift's `InternetChecksum.sum`. Internally the words are
/// summed little-endian and the folded result byte-swapped (RFC 1071 §2(B)), so the folded
/// value is 0 only if every byte and `initial` are 0. Calling one of these on a CPU that lacks
/// its ISA traps: check `csumlab_cpu_features()`.
uint32_t csumlab_sum_avx2(const void *buf, size_t len, uint32_t initial);
uint32_t csumlab_sum_avx512(const void *buf, size_t len, uint32_t initial);
/// The AVX-512 kernel without VNNI, which `csumlab_sum_avx512` runs on CPUs that lack it;
/// exported so that tests on a VNNI machine cover it too.
uint32_t csumlab_sum_avx512_madd(const void *buf, size_t len, uint32_t initial);
/// The AVX-512 kernel with VNNI, without the per-call VNNI check of `csumlab_sum_avx512`: for
/// the cached dispatch of `InternetChecksum.sum`. Traps without AVX-512 VNNI.
uint32_t csumlab_sum_avx512_vnni(const void *buf, size_t len, uint32_t initial);

/// The signature every kernel above shares.
typedef uint32_t (*csumlab_sum_fn)(const void *buf, size_t len, uint32_t initial);

/// The kernel `InternetChecksum.sum` calls above its inline threshold, or NULL before the first
/// such call has chosen one. Cached here as a plain function pointer so that a packet-sized sum
/// is one indirect call from the inlined Swift call site: no Swift frame, no lazy-global check,
/// no jump table in between (on AMD Zen 4 a call layer costs 5–10 cycles, assets/microbench: ~1 ns of
/// the ~10 ns a 1500-byte sum takes). Written once by the Swift side (every thread that races to
/// write it writes the same value).
extern csumlab_sum_fn csumlab_current_sum_cache;
static inline csumlab_sum_fn csumlab_current_sum(void) {
    return __atomic_load_n(&csumlab_current_sum_cache, __ATOMIC_RELAXED);
}
void csumlab_set_current_sum(csumlab_sum_fn f);

/// The value of the `CSUMLAB_CHECKSUM` environment variable, or NULL. (Here so that the Swift
/// module needs no Foundation/libc import.)
const char *csumlab_checksum_env(void);

#endif
