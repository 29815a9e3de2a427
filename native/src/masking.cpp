// RFC 6455 masking, the C API wp_mask_u8 of webpolicy_native.h: every payload byte XOR one byte
// of the 4-byte key, chosen by the byte's offset in the payload, done while the bytes are copied
// (one pass over memory). 32 bytes at a time with AVX2 (x86-64, chosen at run time: only the AVX2
// function is compiled for AVX2), 16 with NEON (aarch64), 8 in the scalar loop; all give the same
// bytes. The Java loop of org.webpolicy.transport.FrameMasking computes the same.
#include "webpolicy_native.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WP_X86 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace {

// The kernels read the key as a little-endian word: byte j of a loaded word meets key byte j % 4.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr bool kLittleEndian = true;
#else
constexpr bool kLittleEndian = false;
#endif

// key: the mask byte of dst[0] in bits 0-7, of dst[1] in bits 8-15, and so on.
inline uint32_t rotate_key(uint32_t key, uint64_t by_bytes) {
    const unsigned shift = static_cast<unsigned>(by_bytes & 3) * 8;
    return shift == 0 ? key : (key >> shift) | (key << (32 - shift));
}

// Eight bytes at a time, then byte by byte. Every word is loaded before it is stored, so dst may
// be src, or lie before it.
void mask_scalar(const uint8_t* src, uint8_t* dst, std::size_t n, uint32_t key) {
    std::size_t i = 0;
    if (kLittleEndian) {
        const uint64_t k = static_cast<uint64_t>(key) | static_cast<uint64_t>(key) << 32;
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            std::memcpy(&w, src + i, 8);
            w ^= k;
            std::memcpy(dst + i, &w, 8);
        }
    }
    for (; i < n; i++) dst[i] = static_cast<uint8_t>(src[i] ^ (key >> ((i & 3) * 8)));
}

#ifdef WP_X86
// 128 bytes per step: four loads, then four stores (so dst may be src, or lie before it).
// Returns how many bytes it did, a multiple of 32.
__attribute__((target("avx2"))) std::size_t mask_avx2(const uint8_t* src, uint8_t* dst, std::size_t n,
                                                      uint32_t key) {
    const __m256i k = _mm256_set1_epi32(static_cast<int>(key));
    std::size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 32));
        const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 64));
        const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 96));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_xor_si256(a, k));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 32), _mm256_xor_si256(b, k));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 64), _mm256_xor_si256(c, k));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 96), _mm256_xor_si256(d, k));
    }
    for (; i + 32 <= n; i += 32) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_xor_si256(a, k));
    }
    // No AVX-SSE transition penalty for the caller's SSE code.
    _mm256_zeroupper();
    return i;
}
#elif defined(__aarch64__)
// 64 bytes per step, loads before stores as the AVX2 kernel. Returns a multiple of 16.
std::size_t mask_neon(const uint8_t* src, uint8_t* dst, std::size_t n, uint32_t key) {
    const uint8x16_t k = vreinterpretq_u8_u32(vdupq_n_u32(key));
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const uint8x16_t a = vld1q_u8(src + i);
        const uint8x16_t b = vld1q_u8(src + i + 16);
        const uint8x16_t c = vld1q_u8(src + i + 32);
        const uint8x16_t d = vld1q_u8(src + i + 48);
        vst1q_u8(dst + i, veorq_u8(a, k));
        vst1q_u8(dst + i + 16, veorq_u8(b, k));
        vst1q_u8(dst + i + 32, veorq_u8(c, k));
        vst1q_u8(dst + i + 48, veorq_u8(d, k));
    }
    for (; i + 16 <= n; i += 16) vst1q_u8(dst + i, veorq_u8(vld1q_u8(src + i), k));
    return i;
}
#endif

// Forward over the bytes: correct when dst is src or lies before it.
void mask_forward(const uint8_t* src, uint8_t* dst, std::size_t n, uint32_t key) {
    std::size_t done = 0;
#ifdef WP_X86
    if (kLittleEndian && wp_simd_level() == WP_SIMD_AVX2) done = mask_avx2(src, dst, n, key);
#elif defined(__aarch64__)
    if (kLittleEndian && wp_simd_level() == WP_SIMD_NEON) done = mask_neon(src, dst, n, key);
#endif
    // done is a multiple of 4: the key lines up with the remaining bytes unrotated.
    mask_scalar(src + done, dst + done, n - done, key);
}

// dst after src and overlapping it: chunks from the end, each through a copy on the stack, so
// no byte is overwritten before it is read (memmove's rule).
void mask_backward(const uint8_t* src, uint8_t* dst, std::size_t n, uint32_t key) {
    constexpr std::size_t kChunk = 4096;
    alignas(32) uint8_t chunk[kChunk];
    std::size_t end = n;
    while (end > 0) {
        const std::size_t start = end > kChunk ? end - kChunk : 0;
        std::memcpy(chunk, src + start, end - start);
        mask_forward(chunk, dst + start, end - start, rotate_key(key, start));
        end = start;
    }
}

}  // namespace

int wp_mask_u8(const uint8_t* src, int64_t src_len, int64_t src_off, uint8_t* dst, int64_t dst_len, int64_t dst_off,
               int64_t n, int32_t key, int64_t payload_offset) {
    if (n < 0 || payload_offset < 0) return WP_EINVAL;
    if (src_off < 0 || src_len < 0 || src_off > src_len || n > src_len - src_off) return WP_EBOUNDS;
    if (dst_off < 0 || dst_len < 0 || dst_off > dst_len || n > dst_len - dst_off) return WP_EBOUNDS;
    if (n == 0) return WP_OK;  // nothing to touch (an empty array's pointer may be null)
    if (src == nullptr || dst == nullptr) return WP_EINVAL;
    const uint8_t* in = src + src_off;
    uint8_t* out = dst + dst_off;
    const std::size_t count = static_cast<std::size_t>(n);
    const uint32_t k = rotate_key(static_cast<uint32_t>(key), static_cast<uint64_t>(payload_offset));
    const auto pin = reinterpret_cast<std::uintptr_t>(in);
    const auto pout = reinterpret_cast<std::uintptr_t>(out);
    if (pout > pin && pout - pin < count) {
        mask_backward(in, out, count, k);
    } else {
        mask_forward(in, out, count, k);
    }
    return WP_OK;
}
