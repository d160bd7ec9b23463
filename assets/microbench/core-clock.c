#include <stdio.h>
#include <x86intrin.h>
int main(){ for(int r=0;r<5;r++){ unsigned long t0=__rdtsc(); unsigned long x=0; long n=200000000; __asm__ volatile("1: add $1,%0\n add $1,%0\n add $1,%0\n add $1,%0\n sub $1,%1\n jnz 1b" : "+r"(x), "+r"(n)); unsigned long t1=__rdtsc(); printf("core/tsc = %.3f\n", 800000000.0/(t1-t0)); } }
