#include <stdio.h>
#include <stdint.h>
#include <x86intrin.h>
__attribute__((noinline)) uint64_t f0(uint64_t x) { __asm__ volatile(""); return x + 1; }
__attribute__((noinline)) uint64_t f1(uint64_t x) { return f0(x) + 1; }
uint64_t (*volatile fp)(uint64_t) = f0;
int main() {
  for (int r = 0; r < 3; r++) {
    long n = 50000000; uint64_t a = 0; unsigned long t0 = __rdtsc();
    for (long i = 0; i < n; i++) a += f0(i);
    unsigned long t1 = __rdtsc();
    uint64_t (*g)(uint64_t) = fp;
    for (long i = 0; i < n; i++) a += g(i);
    unsigned long t2 = __rdtsc();
    for (long i = 0; i < n; i++) a += f1(i);
    unsigned long t3 = __rdtsc();
    printf("direct %.2f  indirect %.2f  nested %.2f core cycles/call (%lu)\n", (t1-t0)*1.385/n, (t2-t1)*1.385/n, (t3-t2)*1.385/n, a);
  }
}
