// numpy's (255 * x).astype(uint8) on x86-64, for float16/32/64: the product in the input's
// precision, truncated toward zero; NaN or a truncated value outside int32 gives 0 (x86-64's
// cvttss2si/cvttsd2si answer 0x80000000, whose low byte is 0), anything else keeps its low byte.
// A scalar loop everywhere and a NEON loop on aarch64, whose conversions saturate instead: the
// NEON loop masks out-of-range lanes to 0 to give x86-64's bytes.
#include <cstring>

#include "pillow_resize.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace webpolicy {

namespace {

inline uint8_t cast_to_u8(double v) {
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

// Elements [from, n) one at a time. One loop per item size, so the compiler can vectorise each
// (a per-element switch on the size would keep it from doing so).
void float_to_u8_scalar(const uint8_t* src, int item_size, std::size_t from, std::size_t n, uint8_t* dst) {
    switch (item_size) {
        case 2:
            for (std::size_t i = from; i < n; i++) {
                uint16_t h;
                std::memcpy(&h, src + 2 * i, 2);
                // float16 * float16 is exact in float32, so one rounding to float16 is numpy's product.
                dst[i] = cast_to_u8(half_to_float(float_to_half(255.0f * half_to_float(h))));
            }
            break;
        case 4:
            for (std::size_t i = from; i < n; i++) {
                float f;
                std::memcpy(&f, src + 4 * i, 4);
                dst[i] = cast_to_u8(255.0f * f);
            }
            break;
        default:
            for (std::size_t i = from; i < n; i++) {
                double d;
                std::memcpy(&d, src + 8 * i, 8);
                dst[i] = cast_to_u8(255.0 * d);
            }
            break;
    }
}

#if defined(__aarch64__)
// Four float32 products to four int32 lanes: truncated, and 0 where NaN or outside int32.
inline int32x4_t cast_lanes(float32x4_t v) {
    const uint32x4_t in_range = vandq_u32(vcgeq_f32(v, vdupq_n_f32(-2147483648.0f)),
                                          vcltq_f32(v, vdupq_n_f32(2147483648.0f)));
    return vandq_s32(vcvtq_s32_f32(v), vreinterpretq_s32_u32(in_range));
}

inline int32x2_t cast_lanes(float64x2_t v) {
    const uint64x2_t in_range = vandq_u64(vcgtq_f64(v, vdupq_n_f64(-2147483649.0)),
                                          vcltq_f64(v, vdupq_n_f64(2147483648.0)));
    return vmovn_s64(vandq_s64(vcvtq_s64_f64(v), vreinterpretq_s64_u64(in_range)));
}

// The low byte of each of eight int32 lanes.
inline uint8x8_t low_bytes(int32x4_t a, int32x4_t b) {
    return vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))));
}

// Eight elements per step; returns how many were done (the rest go to the scalar loop).
// Loads are byte loads: the input has no alignment guarantee. Products are single IEEE
// multiplications, as in the scalar loop (no fused multiply-add: built with -ffp-contract=off).
std::size_t float_to_u8_neon(const uint8_t* src, int item_size, std::size_t n, uint8_t* dst) {
    std::size_t i = 0;
    if (item_size == 2) {
        const float32x4_t k = vdupq_n_f32(255.0f);
        for (; i + 8 <= n; i += 8) {
            const float16x8_t h = vreinterpretq_f16_u8(vld1q_u8(src + 2 * i));
            // float16 -> float32 is exact, the product is exact in float32, one rounding to float16.
            const float32x4_t lo = vcvt_f32_f16(vcvt_f16_f32(vmulq_f32(vcvt_f32_f16(vget_low_f16(h)), k)));
            const float32x4_t hi = vcvt_f32_f16(vcvt_f16_f32(vmulq_f32(vcvt_high_f32_f16(h), k)));
            vst1_u8(dst + i, low_bytes(cast_lanes(lo), cast_lanes(hi)));
        }
    } else if (item_size == 4) {
        const float32x4_t k = vdupq_n_f32(255.0f);
        for (; i + 8 <= n; i += 8) {
            const float32x4_t a = vmulq_f32(vreinterpretq_f32_u8(vld1q_u8(src + 4 * i)), k);
            const float32x4_t b = vmulq_f32(vreinterpretq_f32_u8(vld1q_u8(src + 4 * i + 16)), k);
            vst1_u8(dst + i, low_bytes(cast_lanes(a), cast_lanes(b)));
        }
    } else {
        const float64x2_t k = vdupq_n_f64(255.0);
        for (; i + 8 <= n; i += 8) {
            int32x2_t q[4];
            for (int j = 0; j < 4; j++)
                q[j] = cast_lanes(vmulq_f64(vreinterpretq_f64_u8(vld1q_u8(src + 8 * i + 16 * j)), k));
            vst1_u8(dst + i, low_bytes(vcombine_s32(q[0], q[1]), vcombine_s32(q[2], q[3])));
        }
    }
    return i;
}
#endif

}  // namespace

void float_to_u8(const uint8_t* src, int item_size, std::size_t n, uint8_t* dst, bool simd) {
    std::size_t done = 0;
#if defined(__aarch64__)
    if (simd && cpu_has_neon()) done = float_to_u8_neon(src, item_size, n, dst);
#else
    (void)simd;
#endif
    float_to_u8_scalar(src, item_size, done, n, dst);
}

}  // namespace webpolicy
