/* SM__HOT: give a hot, vectorisable function an AVX2 + FMA clone as well as the
 * plain x86-64 (SSE2) one; glibc picks the clone once, at load time (ifunc), so
 * the binary still runs on any x86-64 and is faster where AVX2 exists. Results
 * may differ from the SSE2 clone in the last bits of a float. Internal. */
#ifndef SM_UTIL_SIMD_H
#define SM_UTIL_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                   \
    !defined(__SANITIZE_ADDRESS__)
#define SM__HOT __attribute__((target_clones("arch=haswell", "default")))
#else
#define SM__HOT
#endif

#endif
