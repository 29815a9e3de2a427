// The C API of webpolicy_native.h: argument and bounds checks, alpha handling and the paste,
// around the kernels of pillow_resize.cpp.
#include "webpolicy_native.h"

#include <atomic>
#include <cstring>
#include <new>
#include <vector>

#include "pillow_resize.h"

namespace {

constexpr int kNativeVersion = 4;

std::atomic<int> simd_enabled{1};

// Everything the resize entry point checks before touching memory.
int check_resize_args(int64_t src_len, int64_t src_off, int in_h, int in_w, int channels, int resized_h,
                      int resized_w, int top, int left, int out_h, int out_w, int64_t dst_len, int64_t dst_off) {
    if (channels < 1 || channels > 4) return WP_EINVAL;
    if (in_h <= 0 || in_w <= 0 || resized_h <= 0 || resized_w <= 0 || out_h <= 0 || out_w <= 0) return WP_EINVAL;
    if (top < 0 || left < 0 || top > out_h - resized_h || left > out_w - resized_w) return WP_EINVAL;
    // h * w fits in int64 (both < 2^31); checked against 2^31 before the channels multiply, so
    // no product can overflow (2^31 - 1 squared times 4 would).
    const int64_t in_pixels = static_cast<int64_t>(in_h) * in_w;
    const int64_t out_pixels = static_cast<int64_t>(out_h) * out_w;
    if (in_pixels > INT32_MAX || out_pixels > INT32_MAX) return WP_EINVAL;
    const int64_t in_bytes = in_pixels * channels;
    const int64_t out_bytes = out_pixels * channels;
    if (in_bytes > INT32_MAX || out_bytes > INT32_MAX) return WP_EINVAL;
    if (src_off < 0 || src_len < 0 || src_off > src_len || in_bytes > src_len - src_off) return WP_EBOUNDS;
    if (dst_off < 0 || dst_len < 0 || dst_off > dst_len || out_bytes > dst_len - dst_off) return WP_EBOUNDS;
    return WP_OK;
}

}  // namespace

int wp_native_version() { return kNativeVersion; }

int wp_simd_level() {
    if (simd_enabled.load() == 0) return WP_SIMD_SCALAR;
    if (webpolicy::cpu_has_avx2()) return WP_SIMD_AVX2;
    if (webpolicy::cpu_has_neon()) return WP_SIMD_NEON;
    return WP_SIMD_SCALAR;
}

void wp_set_simd_enabled(int enabled) { simd_enabled.store(enabled != 0 ? 1 : 0); }

int wp_resize_with_pad_u8(const uint8_t* src, int64_t src_len, int64_t src_off, int in_h, int in_w, int channels,
                          int resized_h, int resized_w, int top, int left, int out_h, int out_w, uint8_t* dst,
                          int64_t dst_len, int64_t dst_off) {
    if (src == nullptr || dst == nullptr) return WP_EINVAL;
    const int status = check_resize_args(src_len, src_off, in_h, in_w, channels, resized_h, resized_w, top, left,
                                         out_h, out_w, dst_len, dst_off);
    if (status != WP_OK) return status;
    const uint8_t* in = src + src_off;
    const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(out_w) * channels;
    // Only the padding is zeroed: the resize writes every byte of the pasted rectangle.
    uint8_t* frame = dst + dst_off;
    const std::size_t row_bytes = static_cast<std::size_t>(stride);
    const std::size_t left_bytes = static_cast<std::size_t>(left) * channels;
    const std::size_t right_bytes = static_cast<std::size_t>(out_w - left - resized_w) * channels;
    std::memset(frame, 0, static_cast<std::size_t>(top) * row_bytes);
    for (int y = top; y < top + resized_h; y++) {
        uint8_t* row = frame + static_cast<std::ptrdiff_t>(y) * stride;
        if (left_bytes != 0) std::memset(row, 0, left_bytes);
        if (right_bytes != 0) std::memset(row + row_bytes - right_bytes, 0, right_bytes);
    }
    std::memset(frame + static_cast<std::ptrdiff_t>(top + resized_h) * stride, 0,
                static_cast<std::size_t>(out_h - top - resized_h) * row_bytes);
    uint8_t* paste = frame + top * stride + static_cast<std::ptrdiff_t>(left) * channels;
    const bool simd = simd_enabled.load() != 0;
    const bool alpha = channels == 2 || channels == 4;
    try {
        std::vector<uint8_t> premultiplied;
        if (alpha) {
            const std::size_t pixels = static_cast<std::size_t>(in_h) * static_cast<std::size_t>(in_w);
            premultiplied.resize(pixels * channels);
            webpolicy::premultiply(in, premultiplied.data(), pixels, channels);
            in = premultiplied.data();
        }
        if (!webpolicy::pillow_resize(in, in_h, in_w, channels, resized_h, resized_w, paste, stride, simd)) {
            return WP_ENOMEM;
        }
        if (alpha) webpolicy::unpremultiply(paste, stride, resized_h, resized_w, channels);
    } catch (const std::bad_alloc&) {
        return WP_ENOMEM;
    }
    return WP_OK;
}

int wp_float_to_u8(const uint8_t* src, int64_t src_len, int item_size, int64_t count, uint8_t* dst, int64_t dst_len) {
    if (src == nullptr || dst == nullptr) return WP_EINVAL;
    if (item_size != 2 && item_size != 4 && item_size != 8) return WP_EINVAL;
    if (count < 0 || src_len < 0 || dst_len < 0) return WP_EINVAL;
    if (count > src_len / item_size || count > dst_len) return WP_EBOUNDS;
    webpolicy::float_to_u8(src, item_size, static_cast<std::size_t>(count), dst, simd_enabled.load() != 0);
    return WP_OK;
}
