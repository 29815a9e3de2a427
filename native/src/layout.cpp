// Image layout: HWC <-> CHW and RGB <-> BGR on uint8 images, the C API of webpolicy_native.h.
// Plain loops over one channel plane at a time, so every store is sequential; three-channel
// HWC -> CHW (a camera frame) de-interleaves 16 pixels at a time with SSSE3 byte shuffles or NEON
// vld3 when the SIMD kernels are enabled (wp_set_simd_enabled). The Java code (org.webpolicy.image.JavaLayoutKernels)
// moves the same bytes to the same places.
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

// The byte count of count images, or -1 when a size is out of range or overflows.
int64_t image_bytes(int64_t count, int h, int w, int c) {
    if (count < 0 || h < 0 || w < 0 || c < 1 || c > 4) return -1;
    const int64_t pixels = static_cast<int64_t>(h) * w;  // < 2^62
    if (pixels > INT32_MAX) return -1;
    const int64_t one = pixels * c;
    if (one != 0 && count > INT64_MAX / one) return -1;
    return one * count;
}

bool overlap(const uint8_t* a, int64_t a_len, const uint8_t* b, int64_t b_len) {
    const auto pa = reinterpret_cast<std::uintptr_t>(a);
    const auto pb = reinterpret_cast<std::uintptr_t>(b);
    return a_len > 0 && b_len > 0 && pa < pb + static_cast<std::uint64_t>(b_len) &&
           pb < pa + static_cast<std::uint64_t>(a_len);
}

// The source channel of output channel ch.
inline int source_channel(int ch, bool swap_rb) { return swap_rb && (ch == 0 || ch == 2) ? 2 - ch : ch; }

// Three channels, 16 pixels at a time: the camera pipeline's case (BGR frame to RGB planes).
// Pure byte moves, so the bytes are the scalar loop's. Returns how many pixels it did.
#ifdef WP_X86
__attribute__((target("ssse3"))) std::size_t hwc_to_chw3_simd(const uint8_t* src, std::size_t pixels, bool swap_rb,
                                                              uint8_t* dst) {
    // mask[k][part]: for output byte j of plane k, the byte 3j + source_channel(k) of the 48
    // input bytes, taken from input vector `part` (0x80: a zero from this vector).
    alignas(16) int8_t masks[3][3][16];
    for (int k = 0; k < 3; k++) {
        const int from = source_channel(k, swap_rb);
        for (int part = 0; part < 3; part++)
            for (int j = 0; j < 16; j++) {
                const int at = 3 * j + from - 16 * part;
                masks[k][part][j] = static_cast<int8_t>(at >= 0 && at < 16 ? at : 0x80);
            }
    }
    __m128i m[3][3];
    for (int k = 0; k < 3; k++)
        for (int part = 0; part < 3; part++) m[k][part] = _mm_load_si128(reinterpret_cast<const __m128i*>(masks[k][part]));
    std::size_t i = 0;
    for (; i + 16 <= pixels; i += 16) {
        const uint8_t* s = src + 3 * i;
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16));
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 32));
        for (int k = 0; k < 3; k++) {
            const __m128i v = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, m[k][0]), _mm_shuffle_epi8(b, m[k][1])),
                                           _mm_shuffle_epi8(c, m[k][2]));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + static_cast<std::size_t>(k) * pixels + i), v);
        }
    }
    return i;
}
#elif defined(__aarch64__)
std::size_t hwc_to_chw3_simd(const uint8_t* src, std::size_t pixels, bool swap_rb, uint8_t* dst) {
    std::size_t i = 0;
    for (; i + 16 <= pixels; i += 16) {
        const uint8x16x3_t v = vld3q_u8(src + 3 * i);  // de-interleaves the three channels
        vst1q_u8(dst + i, swap_rb ? v.val[2] : v.val[0]);
        vst1q_u8(dst + pixels + i, v.val[1]);
        vst1q_u8(dst + 2 * pixels + i, swap_rb ? v.val[0] : v.val[2]);
    }
    return i;
}
#endif

// AVX2 (x86-64: every AVX2 CPU has SSSE3) or NEON, and SIMD enabled.
bool layout_simd() { return wp_simd_level() != WP_SIMD_SCALAR; }

template <int C>
void hwc_to_chw(const uint8_t* src, std::size_t pixels, bool swap_rb, uint8_t* dst) {
#if defined(WP_X86) || defined(__aarch64__)
    if (C == 3 && layout_simd()) {
        const std::size_t done = hwc_to_chw3_simd(src, pixels, swap_rb, dst);
        for (int ch = 0; ch < C; ch++) {
            const uint8_t* s = src + source_channel(ch, swap_rb);
            uint8_t* d = dst + static_cast<std::size_t>(ch) * pixels;
            for (std::size_t i = done; i < pixels; i++) d[i] = s[i * C];
        }
        return;
    }
#endif
    for (int ch = 0; ch < C; ch++) {
        const uint8_t* s = src + source_channel(ch, swap_rb);
        uint8_t* d = dst + static_cast<std::size_t>(ch) * pixels;
        for (std::size_t i = 0; i < pixels; i++) d[i] = s[i * C];
    }
}

template <int C>
void chw_to_hwc(const uint8_t* src, std::size_t pixels, bool swap_rb, uint8_t* dst) {
    for (int ch = 0; ch < C; ch++) {
        const uint8_t* s = src + static_cast<std::size_t>(source_channel(ch, swap_rb)) * pixels;
        uint8_t* d = dst + ch;
        for (std::size_t i = 0; i < pixels; i++) d[i * C] = s[i];
    }
}

template <bool ToChw>
int convert(const uint8_t* src, int64_t src_len, int64_t count, int h, int w, int c, int swap_rb, uint8_t* dst,
            int64_t dst_len) {
    const int64_t bytes = image_bytes(count, h, w, c);
    if (bytes < 0 || (swap_rb != 0 && c != 3 && c != 4)) return WP_EINVAL;
    if (bytes == 0) return WP_OK;  // nothing to touch (an empty vector's data() may be null)
    if (src == nullptr || dst == nullptr) return WP_EINVAL;
    if (src_len < bytes || dst_len < bytes) return WP_EBOUNDS;
    if (overlap(src, bytes, dst, bytes)) return WP_EINVAL;
    const std::size_t pixels = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
    const std::size_t image = pixels * static_cast<std::size_t>(c);
    for (int64_t i = 0; i < count; i++) {
        const uint8_t* s = src + static_cast<std::size_t>(i) * image;
        uint8_t* d = dst + static_cast<std::size_t>(i) * image;
        const bool swap = swap_rb != 0;
        switch (c) {
            case 1: ToChw ? hwc_to_chw<1>(s, pixels, swap, d) : chw_to_hwc<1>(s, pixels, swap, d); break;
            case 2: ToChw ? hwc_to_chw<2>(s, pixels, swap, d) : chw_to_hwc<2>(s, pixels, swap, d); break;
            case 3: ToChw ? hwc_to_chw<3>(s, pixels, swap, d) : chw_to_hwc<3>(s, pixels, swap, d); break;
            default: ToChw ? hwc_to_chw<4>(s, pixels, swap, d) : chw_to_hwc<4>(s, pixels, swap, d); break;
        }
    }
    return WP_OK;
}

}  // namespace

int wp_hwc_to_chw_u8(const uint8_t* src, int64_t src_len, int64_t count, int h, int w, int c, int swap_rb,
                     uint8_t* dst, int64_t dst_len) {
    return convert<true>(src, src_len, count, h, w, c, swap_rb, dst, dst_len);
}

int wp_chw_to_hwc_u8(const uint8_t* src, int64_t src_len, int64_t count, int h, int w, int c, int swap_rb,
                     uint8_t* dst, int64_t dst_len) {
    return convert<false>(src, src_len, count, h, w, c, swap_rb, dst, dst_len);
}

int wp_swap_rb_u8(const uint8_t* src, int64_t src_len, int64_t pixels, int c, uint8_t* dst, int64_t dst_len) {
    if ((c != 3 && c != 4) || pixels < 0 || pixels > INT64_MAX / c) return WP_EINVAL;
    const int64_t bytes = pixels * c;
    if (bytes == 0) return WP_OK;
    if (src == nullptr || dst == nullptr) return WP_EINVAL;
    if (src_len < bytes || dst_len < bytes) return WP_EBOUNDS;
    if (src != dst && overlap(src, bytes, dst, bytes)) return WP_EINVAL;
    const std::size_t n = static_cast<std::size_t>(pixels);
    for (std::size_t i = 0; i < n; i++) {
        const uint8_t* s = src + i * c;
        uint8_t* d = dst + i * c;
        const uint8_t r = s[0];
        const uint8_t g = s[1];
        const uint8_t b = s[2];
        d[0] = b;
        d[1] = g;
        d[2] = r;
        if (c == 4) d[3] = s[3];
    }
    return WP_OK;
}
