// The NEON kernels of the Pillow-exact resize (aarch64), the same integer arithmetic as the
// scalar kernels of pillow_resize.cpp in 32-bit lanes, so the same bytes. Compiled everywhere;
// empty except for cpu_has_neon() on other architectures.
#include "pillow_resize.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <sys/auxv.h>

#include <algorithm>
#include <cstring>
#endif

namespace webpolicy {

#if defined(__aarch64__)

namespace {

constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

inline uint8_t clip8(int32_t acc) {
    const int32_t v = acc >> kPrecisionBits;
    return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// One output pixel per step of four taps: a 16-byte load from the window start holds the next
// four pixels, a table lookup spreads channel ch of those four pixels into four 32-bit lanes,
// multiplied by the four weights. Taps past an output's window have weight 0; the bytes they
// read lie inside the rows given or in a zero-padded copy of the row.
template <int C>
void horizontal_neon_c(const uint8_t* in, std::ptrdiff_t in_stride, int rows, int in_w, const Coefficients& hc,
                       int out_w, uint8_t* out, std::ptrdiff_t out_stride) {
    const int ksize = hc.ksize;
    const int max_groups = (ksize + 3) / 4;
    std::vector<int32_t> wts(static_cast<std::size_t>(out_w) * max_groups * 4, 0);
    std::vector<int> groups(static_cast<std::size_t>(out_w));
    std::ptrdiff_t read_end = static_cast<std::ptrdiff_t>(in_w) * C;
    for (int xx = 0; xx < out_w; xx++) {
        const std::size_t x = static_cast<std::size_t>(xx);
        const int n = hc.count[x];
        groups[x] = (n + 3) / 4;
        std::copy_n(hc.weights.data() + x * ksize, n, wts.data() + x * max_groups * 4);
        const std::ptrdiff_t last_step = 4 * (groups[x] - 1);
        read_end = std::max(read_end, (static_cast<std::ptrdiff_t>(hc.first[x]) + last_step) * C + 16);
    }
    std::vector<uint8_t> padded_row(static_cast<std::size_t>(read_end), 0);
    const std::ptrdiff_t total = static_cast<std::ptrdiff_t>(rows) * in_stride;

    uint8x16_t ctrl[C];
    for (int ch = 0; ch < C; ch++) {
        uint8_t m[16];
        for (int t = 0; t < 4; t++) {
            m[t * 4] = static_cast<uint8_t>(t * C + ch);
            m[t * 4 + 1] = m[t * 4 + 2] = m[t * 4 + 3] = 0xFF;  // out of table range: 0
        }
        ctrl[ch] = vld1q_u8(m);
    }
    for (int y = 0; y < rows; y++) {
        const uint8_t* row = in + y * in_stride;
        if (y * in_stride + read_end > total) {
            std::memcpy(padded_row.data(), row, static_cast<std::size_t>(in_w) * C);
            row = padded_row.data();
        }
        uint8_t* o = out + y * out_stride;
        for (int xx = 0; xx < out_w; xx++) {
            const std::size_t x = static_cast<std::size_t>(xx);
            const uint8_t* p = row + static_cast<std::ptrdiff_t>(hc.first[x]) * C;
            const int32_t* k = wts.data() + x * max_groups * 4;
            int32x4_t acc[C];
            for (int ch = 0; ch < C; ch++) acc[ch] = vdupq_n_s32(0);
            for (int g = 0; g < groups[x]; g++, p += 4 * C, k += 4) {
                const uint8x16_t v = vld1q_u8(p);
                const int32x4_t kv = vld1q_s32(k);
                for (int ch = 0; ch < C; ch++)
                    acc[ch] = vmlaq_s32(acc[ch], vreinterpretq_s32_u8(vqtbl1q_u8(v, ctrl[ch])), kv);
            }
            for (int ch = 0; ch < C; ch++) o[xx * C + ch] = clip8(kHalf + vaddvq_s32(acc[ch]));
        }
    }
}

}  // namespace

void horizontal_neon(const uint8_t* in, std::ptrdiff_t in_stride, int rows, int in_w, int c, const Coefficients& hc,
                     int out_w, uint8_t* out, std::ptrdiff_t out_stride) {
    switch (c) {
        case 1: horizontal_neon_c<1>(in, in_stride, rows, in_w, hc, out_w, out, out_stride); break;
        case 2: horizontal_neon_c<2>(in, in_stride, rows, in_w, hc, out_w, out, out_stride); break;
        case 3: horizontal_neon_c<3>(in, in_stride, rows, in_w, hc, out_w, out, out_stride); break;
        default: horizontal_neon_c<4>(in, in_stride, rows, in_w, hc, out_w, out, out_stride); break;
    }
}

// Sixteen bytes of a row at a time in four vectors of four 32-bit sums; the saturating narrowing
// (signed to unsigned 16 bits, then to 8 bits) clamps to 0..255 exactly as clip8 does.
void vertical_neon(const uint8_t* in, std::ptrdiff_t in_stride, int row_shift, int row_bytes, const Coefficients& vc,
                   int out_h, uint8_t* out, std::ptrdiff_t out_stride) {
    for (int yy = 0; yy < out_h; yy++) {
        const std::size_t y0 = static_cast<std::size_t>(yy);
        const int ymin = vc.first[y0] - row_shift;
        const int n = vc.count[y0];
        const int32_t* k = vc.weights.data() + y0 * vc.ksize;
        const uint8_t* base = in + ymin * in_stride;
        uint8_t* o = out + yy * out_stride;
        int i = 0;
        for (; i + 16 <= row_bytes; i += 16) {
            int32x4_t a0 = vdupq_n_s32(kHalf), a1 = a0, a2 = a0, a3 = a0;
            const uint8_t* p = base + i;
            for (int y = 0; y < n; y++, p += in_stride) {
                const int32x4_t ky = vdupq_n_s32(k[y]);
                const uint8x16_t bytes = vld1q_u8(p);
                const uint16x8_t lo = vmovl_u8(vget_low_u8(bytes));
                const uint16x8_t hi = vmovl_high_u8(bytes);
                a0 = vmlaq_s32(a0, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(lo))), ky);
                a1 = vmlaq_s32(a1, vreinterpretq_s32_u32(vmovl_high_u16(lo)), ky);
                a2 = vmlaq_s32(a2, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(hi))), ky);
                a3 = vmlaq_s32(a3, vreinterpretq_s32_u32(vmovl_high_u16(hi)), ky);
            }
            const uint16x8_t w0 = vcombine_u16(vqmovun_s32(vshrq_n_s32(a0, kPrecisionBits)),
                                               vqmovun_s32(vshrq_n_s32(a1, kPrecisionBits)));
            const uint16x8_t w1 = vcombine_u16(vqmovun_s32(vshrq_n_s32(a2, kPrecisionBits)),
                                               vqmovun_s32(vshrq_n_s32(a3, kPrecisionBits)));
            vst1q_u8(o + i, vcombine_u8(vqmovn_u16(w0), vqmovn_u16(w1)));
        }
        for (; i < row_bytes; i++) {
            int32_t acc = kHalf;
            const uint8_t* p = base + i;
            for (int y = 0; y < n; y++, p += in_stride) acc += *p * k[y];
            o[i] = clip8(acc);
        }
    }
}

bool cpu_has_neon() {
    // Advanced SIMD is part of every ARMv8-A core Linux runs on; the check keeps the rule
    // "SIMD where the CPU says it has it" the same on both architectures.
    static const bool has = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
    return has;
}

#else

bool cpu_has_neon() { return false; }

#endif

}  // namespace webpolicy
