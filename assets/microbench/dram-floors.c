#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>
#include "../../Sources/CChecksumPeers/include/CChecksumPeers.h"
#include "../../Sources/CChecksum/include/CChecksum.h"
static double now(){ struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec*1e-9; }
__attribute__((target("avx2"))) uint64_t floor128(const void *buf, size_t len) { const unsigned char *p = buf; __m256i a0=_mm256_setzero_si256(),a1=a0;
  while (len >= 128) { a0=_mm256_add_epi64(a0,_mm256_add_epi64(_mm256_loadu_si256((const __m256i*)p),_mm256_loadu_si256((const __m256i*)(p+32))));
   a1=_mm256_add_epi64(a1,_mm256_add_epi64(_mm256_loadu_si256((const __m256i*)(p+64)),_mm256_loadu_si256((const __m256i*)(p+96)))); p+=128; len-=128; }
  __m256i a=_mm256_add_epi64(a0,a1); return (uint64_t)_mm256_extract_epi64(a,0)+_mm256_extract_epi64(a,3); }
__attribute__((target("avx2"))) uint64_t floor64b(const void *buf, size_t len) { const unsigned char *p = buf; __m256i a0=_mm256_setzero_si256(),a1=a0;
  while (len >= 64) { a0=_mm256_add_epi64(a0,_mm256_loadu_si256((const __m256i*)p)); a1=_mm256_add_epi64(a1,_mm256_loadu_si256((const __m256i*)(p+32))); p+=64; len-=64; }
  __m256i a=_mm256_add_epi64(a0,a1); return (uint64_t)_mm256_extract_epi64(a,0)+_mm256_extract_epi64(a,3); }
typedef uint64_t (*fn)(const void*, size_t);
uint64_t k_floor256(const void*b,size_t n){return csumpeer_read_floor256(b,n);}
uint64_t k_floor64(const void*b,size_t n){return csumpeer_read_floor64(b,n);}
uint64_t k_avx2(const void*b,size_t n){return csumlab_sum_avx2(b,n,0);}
uint64_t k_peer2(const void*b,size_t n){return csumpeer_avx2(b,n);}
int main(){ size_t n = 64<<20; unsigned char *b = aligned_alloc(64, n); memset(b, 1, n);
 fn f[]={k_floor256,k_floor64,floor128,floor64b,k_avx2,k_peer2}; const char*nm[]={"floor256","floor64","floor128/2acc","floor64/2acc","csum avx2","peer avx2"};
 enum{K=6,R=21}; double best[K][R]; volatile uint64_t s=0;
 for(int r=0;r<R;r++) for(int k=0;k<K;k++){ double t0=now(); s+=f[k](b,n); s+=f[k](b,n); double t1=now(); best[k][r]=2.0*n/(t1-t0)/1e9; }
 for(int k=0;k<K;k++){ double *x=best[k]; for(int i=0;i<R;i++)for(int j=i+1;j<R;j++) if(x[j]<x[i]){double t=x[i];x[i]=x[j];x[j]=t;} printf("%-14s median %.1f GB/s  max %.1f\n",nm[k],x[R/2],x[R-1]); } }
