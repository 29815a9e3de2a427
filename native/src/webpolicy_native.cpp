// The C API of webpolicy_native.h: argument and bounds checks, alpha handling and the paste,
// around the kernels of pillow_resize.cpp.
#include "webpolicy_native.h"

#include <atomic>
#include <cstring>
#include <new>
#include <vector>

#include "pillow_resize.h"

namespace {

constexpr int kNativeVersion = 1;

std::atomic<int> simd_enabled{1};

// Everything the two resize entry points check before touching memory.
int check_resize_args(int64_t src_len, int64_t src_off, int in_h, int in_w, int channels, int resized_h,
                      int resized_w, int top, int left, int out_h, int out_w, int64_t dst_len, int64_t dst_off) {
    if (channels < 1 || channels > 4) return WP_EINVAL;
    if (in_h <= 0 || in_w <= 0 || resized_h <= 0 || resized_w <= 0 || out_h <= 0 || out_w <= 0) return WP_EINVAL;
    if (top < 0 || left < 0 || top > out_h - resized_h || left > out_w - resized_w) return WP_EINVAL;
    const int64_t in_bytes = static_cast<int64_t>(in_h) * in_w * channels;
    const int64_t out_bytes = static_cast<int64_t>(out_h) * out_w * channels;
    if (in_bytes > INT32_MAX || out_bytes > INT32_MAX) return WP_EINVAL;
    if (src_off < 0 || src_len < 0 || src_off > src_len || in_bytes > src_len - src_off) return WP_EBOUNDS;
    if (dst_off < 0 || dst_len < 0 || dst_off > dst_len || out_bytes > dst_len - dst_off) return WP_EBOUNDS;
    return WP_OK;
}

}  // namespace

int wp_native_version() { return kNativeVersion; }

int wp_simd_level() { return simd_enabled.load() != 0 && webpolicy::cpu_has_avx2() ? 2 : 0; }

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
    std::memset(dst + dst_off, 0, static_cast<std::size_t>(out_h) * static_cast<std::size_t>(stride));
    uint8_t* paste = dst + dst_off + top * stride + static_cast<std::ptrdiff_t>(left) * channels;
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

namespace {

inline uint8_t cast_to_u8(double v) {
    // x86-64's cvttsd2si: NaN or a truncated value outside int32 gives 0x80000000 (low byte 0).
    if (v > -2147483649.0 && v < 2147483648.0) return static_cast<uint8_t>(static_cast<int32_t>(v));
    return 0;
}

inline uint8_t cast_to_u8(float v) {
    // No float lies strictly between -2^31 - 1 and -2^31, so this is the same test in float.
    if (v >= -2147483648.0f && v < 2147483648.0f) return static_cast<uint8_t>(static_cast<int32_t>(v));
    return 0;
}

float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp == 0) {
        const float v = static_cast<float>(mant) * 0x1p-24f;  // subnormal or zero, exact
        return sign != 0 ? -v : v;
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t float_to_half(float value) {  // round to nearest, ties to even
    uint32_t f;
    std::memcpy(&f, &value, sizeof f);
    const uint32_t sign = (f >> 16) & 0x8000u;
    const int exp = static_cast<int>((f >> 23) & 0xffu);
    const uint32_t mant = f & 0x7fffffu;
    if (exp == 0xff) return static_cast<uint16_t>(mant == 0 ? (sign | 0x7c00u) : (sign | 0x7c00u | 0x200u | (mant >> 13)));
    const int e = exp - 127 + 15;
    if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10) return static_cast<uint16_t>(sign);
        const uint32_t m = mant | 0x800000u;
        const int shift = 14 - e;
        uint32_t half = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1);
        const uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1u) != 0)) half++;
        return static_cast<uint16_t>(sign | half);
    }
    uint32_t half = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
    const uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1u) != 0)) half++;
    return static_cast<uint16_t>(sign | half);
}

}  // namespace

int wp_float_to_u8(const uint8_t* src, int64_t src_len, int item_size, int64_t count, uint8_t* dst, int64_t dst_len) {
    if (src == nullptr || dst == nullptr) return WP_EINVAL;
    if (item_size != 2 && item_size != 4 && item_size != 8) return WP_EINVAL;
    if (count < 0 || src_len < 0 || dst_len < 0) return WP_EINVAL;
    if (count > src_len / item_size || count > dst_len) return WP_EBOUNDS;
    const std::size_t n = static_cast<std::size_t>(count);
    switch (item_size) {
        case 2:
            for (std::size_t i = 0; i < n; i++) {
                uint16_t h;
                std::memcpy(&h, src + 2 * i, 2);
                // float16 * float16 is exact in float32, so one rounding to float16 is numpy's product.
                dst[i] = cast_to_u8(half_to_float(float_to_half(255.0f * half_to_float(h))));
            }
            break;
        case 4:
            for (std::size_t i = 0; i < n; i++) {
                float f;
                std::memcpy(&f, src + 4 * i, 4);
                dst[i] = cast_to_u8(255.0f * f);
            }
            break;
        default:
            for (std::size_t i = 0; i < n; i++) {
                double d;
                std::memcpy(&d, src + 8 * i, 8);
                dst[i] = cast_to_u8(255.0 * d);
            }
            break;
    }
    return WP_OK;
}

// Kept in this file so the checks stay next to each other; the OpenCV call is in opencv_resize.cpp.
int wp_opencv_resize_checked(const uint8_t* in, int in_h, int in_w, int channels, int resized_h, int resized_w,
                             uint8_t* paste, std::ptrdiff_t stride, int interpolation);

int wp_resize_with_pad_u8_opencv(const uint8_t* src, int64_t src_len, int64_t src_off, int in_h, int in_w,
                                 int channels, int resized_h, int resized_w, int top, int left, int out_h, int out_w,
                                 uint8_t* dst, int64_t dst_len, int64_t dst_off, int interpolation) {
    if (src == nullptr || dst == nullptr) return WP_EINVAL;
    if (interpolation != WP_OPENCV_LINEAR && interpolation != WP_OPENCV_AREA) return WP_EINVAL;
    const int status = check_resize_args(src_len, src_off, in_h, in_w, channels, resized_h, resized_w, top, left,
                                         out_h, out_w, dst_len, dst_off);
    if (status != WP_OK) return status;
    const uint8_t* in = src + src_off;
    const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(out_w) * channels;
    std::memset(dst + dst_off, 0, static_cast<std::size_t>(out_h) * static_cast<std::size_t>(stride));
    uint8_t* paste = dst + dst_off + top * stride + static_cast<std::ptrdiff_t>(left) * channels;
    const bool alpha = channels == 2 || channels == 4;
    try {
        std::vector<uint8_t> premultiplied;
        if (alpha) {
            const std::size_t pixels = static_cast<std::size_t>(in_h) * static_cast<std::size_t>(in_w);
            premultiplied.resize(pixels * channels);
            webpolicy::premultiply(in, premultiplied.data(), pixels, channels);
            in = premultiplied.data();
        }
        const int rc = wp_opencv_resize_checked(in, in_h, in_w, channels, resized_h, resized_w, paste, stride,
                                                interpolation);
        if (rc != WP_OK) return rc;
        if (alpha) webpolicy::unpremultiply(paste, stride, resized_h, resized_w, channels);
    } catch (const std::bad_alloc&) {
        return WP_ENOMEM;
    }
    return WP_OK;
}
