// Pillow's BILINEAR resize on 8-bit images, reproduced from its documented arithmetic
// (PILLOW_RESIZE.md): coefficients in IEEE double (built without -ffast-math and with
// -ffp-contract=off so the doubles match Java's), 22-bit fixed point, a horizontal pass into an
// 8-bit intermediate, then a vertical pass.
#include "pillow_resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define WP_X86 1
#endif

namespace webpolicy {

namespace {

constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

inline double triangle(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

inline uint8_t clip8(int32_t acc) {
    int32_t v = acc >> kPrecisionBits;
    return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// ---------------------------------------------------------------- scalar kernels

template <int C>
void horizontal_scalar_c(const uint8_t* in, std::ptrdiff_t in_stride, int rows, const Coefficients& hc,
                         int out_w, uint8_t* out, std::ptrdiff_t out_stride) {
    const int ksize = hc.ksize;
    for (int y = 0; y < rows; y++) {
        const uint8_t* row = in + y * in_stride;
        uint8_t* o = out + y * out_stride;
        for (int xx = 0; xx < out_w; xx++) {
            const uint8_t* p = row + static_cast<std::ptrdiff_t>(hc.first[xx]) * C;
            const int32_t* k = hc.weights.data() + static_cast<std::size_t>(xx) * ksize;
            const int n = hc.count[xx];
            int32_t acc[C];
            for (int ch = 0; ch < C; ch++) acc[ch] = kHalf;
            for (int x = 0; x < n; x++) {
                const int32_t kx = k[x];
                for (int ch = 0; ch < C; ch++) acc[ch] += p[x * C + ch] * kx;
            }
            for (int ch = 0; ch < C; ch++) o[xx * C + ch] = clip8(acc[ch]);
        }
    }
}

void horizontal_scalar(const uint8_t* in, std::ptrdiff_t in_stride, int rows, int c, const Coefficients& hc,
                       int out_w, uint8_t* out, std::ptrdiff_t out_stride) {
    switch (c) {
        case 1: horizontal_scalar_c<1>(in, in_stride, rows, hc, out_w, out, out_stride); break;
        case 2: horizontal_scalar_c<2>(in, in_stride, rows, hc, out_w, out, out_stride); break;
        case 3: horizontal_scalar_c<3>(in, in_stride, rows, hc, out_w, out, out_stride); break;
        default: horizontal_scalar_c<4>(in, in_stride, rows, hc, out_w, out, out_stride); break;
    }
}

// in points at image row row_shift (the horizontal pass kept only the rows needed).
void vertical_scalar(const uint8_t* in, std::ptrdiff_t in_stride, int row_shift, int row_bytes,
                     const Coefficients& vc, int out_h, uint8_t* out, std::ptrdiff_t out_stride,
                     std::vector<int32_t>& acc) {
    acc.resize(static_cast<std::size_t>(row_bytes));
    for (int yy = 0; yy < out_h; yy++) {
        std::fill(acc.begin(), acc.end(), kHalf);
        const int ymin = vc.first[yy] - row_shift;
        const int n = vc.count[yy];
        const int32_t* k = vc.weights.data() + static_cast<std::size_t>(yy) * vc.ksize;
        for (int y = 0; y < n; y++) {
            const int32_t ky = k[y];
            const uint8_t* p = in + (ymin + y) * in_stride;
            int32_t* a = acc.data();
            for (int i = 0; i < row_bytes; i++) a[i] += p[i] * ky;  // auto-vectorised at -O3
        }
        uint8_t* o = out + yy * out_stride;
        for (int i = 0; i < row_bytes; i++) o[i] = clip8(acc[static_cast<std::size_t>(i)]);
    }
}

// ---------------------------------------------------------------- AVX2 kernels
#ifdef WP_X86

// Two output pixels per vector (one per 128-bit lane), four taps per step: a 16-byte load
// from each output's window start holds its next four pixels; a byte shuffle spreads channel c
// of those four pixels into four 32-bit lanes, multiplied by the four weights. No gathers.
// Taps past an output's window have weight 0; the bytes they read are inside the rows given or
// in a padded copy of the row.
template <int C>
__attribute__((target("avx2"))) void horizontal_avx2_c(const uint8_t* in, std::ptrdiff_t in_stride, int rows,
                                                       int in_w, const Coefficients& hc, int out_w, uint8_t* out,
                                                       std::ptrdiff_t out_stride) {
    const int ksize = hc.ksize;
    const int pairs = (out_w + 1) / 2;
    // Weights per pair and step: 8 ints, [4 taps of the even output | 4 taps of the odd one].
    const int max_groups = (ksize + 3) / 4;
    std::vector<int32_t> wts(static_cast<std::size_t>(pairs) * max_groups * 8, 0);
    std::vector<int> groups(static_cast<std::size_t>(pairs), 0);
    std::vector<int> starts(static_cast<std::size_t>(pairs) * 2, 0);
    for (int p = 0; p < pairs; p++) {
        for (int half = 0; half < 2; half++) {
            const int xx = std::min(2 * p + half, out_w - 1);
            const int n = hc.count[xx];
            starts[static_cast<std::size_t>(2 * p + half)] = hc.first[xx] * C;
            groups[static_cast<std::size_t>(p)] = std::max(groups[static_cast<std::size_t>(p)], (n + 3) / 4);
            for (int j = 0; j < n; j++) {
                wts[(static_cast<std::size_t>(p) * max_groups + j / 4) * 8 + half * 4 + j % 4] =
                    hc.weights[static_cast<std::size_t>(xx) * ksize + j];
            }
        }
    }
    // A step reads 16 bytes from C * (first + 4g), which can pass the end of the row (an
    // output at the border runs as many steps as its pair partner). Rows where a read would
    // pass the end of the rows given are read from a zero-padded copy.
    std::ptrdiff_t read_end = static_cast<std::ptrdiff_t>(in_w) * C;
    for (int p = 0; p < pairs; p++) {
        const std::ptrdiff_t last_step = 4 * (groups[static_cast<std::size_t>(p)] - 1);
        for (int half = 0; half < 2; half++) {
            const std::ptrdiff_t start = starts[static_cast<std::size_t>(2 * p + half)] + last_step * C;
            read_end = std::max(read_end, start + 16);
        }
    }
    std::vector<uint8_t> padded_row(static_cast<std::size_t>(read_end), 0);
    const std::ptrdiff_t total = static_cast<std::ptrdiff_t>(rows) * in_stride;

    __m256i ctrl[C];
    for (int ch = 0; ch < C; ch++) {
        alignas(32) int8_t m[32];
        for (int lane = 0; lane < 2; lane++)
            for (int t = 0; t < 4; t++) {
                m[lane * 16 + t * 4] = static_cast<int8_t>(t * C + ch);
                m[lane * 16 + t * 4 + 1] = m[lane * 16 + t * 4 + 2] = m[lane * 16 + t * 4 + 3] = -1;
            }
        ctrl[ch] = _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
    }
    const __m256i half = _mm256_set1_epi32(kHalf);
    const __m256i zero = _mm256_setzero_si256();
    for (int y = 0; y < rows; y++) {
        const uint8_t* row = in + y * in_stride;
        if (y * in_stride + read_end > total) {
            std::memcpy(padded_row.data(), row, static_cast<std::size_t>(in_w) * C);
            row = padded_row.data();
        }
        uint8_t* o = out + y * out_stride;
        for (int p = 0; p < pairs; p++) {
            const uint8_t* a = row + starts[static_cast<std::size_t>(2 * p)];
            const uint8_t* b = row + starts[static_cast<std::size_t>(2 * p + 1)];
            const int32_t* k = wts.data() + static_cast<std::size_t>(p) * max_groups * 8;
            __m256i acc[4] = {zero, zero, zero, zero};
            const int ng = groups[static_cast<std::size_t>(p)];
            for (int g = 0; g < ng; g++, a += 4 * C, b += 4 * C, k += 8) {
                const __m256i v = _mm256_inserti128_si256(
                    _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a))),
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), 1);
                const __m256i kv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(k));
                for (int ch = 0; ch < C; ch++)
                    acc[ch] = _mm256_add_epi32(acc[ch], _mm256_mullo_epi32(_mm256_shuffle_epi8(v, ctrl[ch]), kv));
            }
            // Per lane: [sum c0, sum c1, sum c2, sum c3] of that lane's output pixel.
            const __m256i sums = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
            const __m256i v = _mm256_srai_epi32(_mm256_add_epi32(sums, half), kPrecisionBits);
            const __m256i w16 = _mm256_packus_epi32(v, v);
            const __m256i b8 = _mm256_packus_epi16(w16, w16);
            const int32_t lo = _mm256_extract_epi32(b8, 0);
            std::memcpy(o + 2 * p * C, &lo, C);
            if (2 * p + 1 < out_w) {
                const int32_t hi = _mm256_extract_epi32(b8, 4);
                std::memcpy(o + (2 * p + 1) * C, &hi, C);
            }
        }
    }
}

__attribute__((target("avx2"))) void horizontal_avx2(const uint8_t* in, std::ptrdiff_t in_stride, int rows, int in_w,
                                                     int c, const Coefficients& hc, int out_w, uint8_t* out,
                                                     std::ptrdiff_t out_stride) {
    switch (c) {
        case 1: horizontal_avx2_c<1>(in, in_stride, rows, in_w, hc, out_w, out, out_stride); break;
        case 2: horizontal_avx2_c<2>(in, in_stride, rows, in_w, hc, out_w, out, out_stride); break;
        case 3: horizontal_avx2_c<3>(in, in_stride, rows, in_w, hc, out_w, out, out_stride); break;
        default: horizontal_avx2_c<4>(in, in_stride, rows, in_w, hc, out_w, out, out_stride); break;
    }
}

// Sixteen bytes of a row at a time, two vectors of eight 32-bit sums; packus saturates to
// 0..255 exactly as the clamp does.
__attribute__((target("avx2"))) void vertical_avx2(const uint8_t* in, std::ptrdiff_t in_stride, int row_shift,
                                                   int row_bytes, const Coefficients& vc, int out_h, uint8_t* out,
                                                   std::ptrdiff_t out_stride) {
    const __m256i half = _mm256_set1_epi32(kHalf);
    for (int yy = 0; yy < out_h; yy++) {
        const int ymin = vc.first[yy] - row_shift;
        const int n = vc.count[yy];
        const int32_t* k = vc.weights.data() + static_cast<std::size_t>(yy) * vc.ksize;
        const uint8_t* base = in + ymin * in_stride;
        uint8_t* o = out + yy * out_stride;
        int i = 0;
        for (; i + 16 <= row_bytes; i += 16) {
            __m256i lo = half;
            __m256i hi = half;
            const uint8_t* p = base + i;
            for (int y = 0; y < n; y++, p += in_stride) {
                const __m256i ky = _mm256_set1_epi32(k[y]);
                const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
                lo = _mm256_add_epi32(lo, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(bytes), ky));
                hi = _mm256_add_epi32(hi, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)), ky));
            }
            lo = _mm256_srai_epi32(lo, kPrecisionBits);
            hi = _mm256_srai_epi32(hi, kPrecisionBits);
            __m256i words = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xD8);
            __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i), bytes);
        }
        for (; i < row_bytes; i++) {
            int32_t acc = kHalf;
            for (int y = 0; y < n; y++) acc += base[y * in_stride + i] * k[y];
            o[i] = clip8(acc);
        }
    }
}

#endif  // WP_X86

}  // namespace

#ifdef WP_X86
namespace {
// cpuid + xgetbv rather than __builtin_cpu_supports, whose __cpu_model symbol lives in the static
// libgcc and can be missing when the library is loaded next to another libgcc_s.
bool detect_avx2() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
    const bool osxsave = (c & (1u << 27)) != 0;
    const bool avx = (c & (1u << 28)) != 0;
    if (!osxsave || !avx) return false;
    unsigned xcr0_lo = 0, xcr0_hi = 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 6u) != 6u) return false;  // the OS saves the YMM registers
    if (__get_cpuid_max(0, nullptr) < 7) return false;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 5)) != 0;
}
}  // namespace
#endif

bool cpu_has_avx2() {
#ifdef WP_X86
    static const bool has = detect_avx2();
    return has;
#else
    return false;
#endif
}

Coefficients compute_coefficients(int in_size, int out_size) {
    Coefficients c;
    const double scale = static_cast<double>(in_size) / out_size;
    const double filterscale = scale > 1.0 ? scale : 1.0;
    const double support = filterscale * 1.0;
    const int ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
    c.ksize = ksize;
    c.first.assign(static_cast<std::size_t>(out_size), 0);
    c.count.assign(static_cast<std::size_t>(out_size), 0);
    c.weights.assign(static_cast<std::size_t>(out_size) * ksize, 0);
    std::vector<double> k(static_cast<std::size_t>(ksize));
    const double ss = 1.0 / filterscale;
    for (int xx = 0; xx < out_size; xx++) {
        const double center = (xx + 0.5) * scale;
        int xmin = static_cast<int>(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = static_cast<int>(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; x++) {
            const double w = triangle((x + xmin - center + 0.5) * ss);
            k[static_cast<std::size_t>(x)] = w;
            ww += w;
        }
        for (int x = 0; x < xmax; x++) {
            double& kx = k[static_cast<std::size_t>(x)];
            if (ww != 0.0) kx /= ww;
            // Round half away from zero by truncation, as Pillow's C cast does.
            const double v = kx * (1 << kPrecisionBits);
            c.weights[static_cast<std::size_t>(xx) * ksize + x] = static_cast<int32_t>(kx < 0 ? -0.5 + v : 0.5 + v);
        }
        c.first[static_cast<std::size_t>(xx)] = xmin;
        c.count[static_cast<std::size_t>(xx)] = xmax;
    }
    return c;
}

bool pillow_resize(const uint8_t* in, int in_h, int in_w, int c, int out_h, int out_w,
                   uint8_t* out, std::ptrdiff_t out_stride, bool simd) {
    try {
        const bool horizontal = out_w != in_w;
        const bool vertical = out_h != in_h;
        const std::ptrdiff_t in_stride = static_cast<std::ptrdiff_t>(in_w) * c;
#ifdef WP_X86
        const bool avx2 = simd && cpu_has_avx2();
#elif defined(__aarch64__)
        const bool neon = simd && cpu_has_neon();
#else
        (void)simd;
#endif
        if (!horizontal && !vertical) {
            for (int y = 0; y < in_h; y++) std::memcpy(out + y * out_stride, in + y * in_stride, static_cast<std::size_t>(in_stride));
            return true;
        }
        std::vector<int32_t> acc;
        auto vpass = [&](const uint8_t* src, std::ptrdiff_t stride, int shift, const Coefficients& vc) {
            const int row_bytes = out_w * c;
#ifdef WP_X86
            if (avx2) {
                vertical_avx2(src, stride, shift, row_bytes, vc, out_h, out, out_stride);
                return;
            }
#elif defined(__aarch64__)
            if (neon) {
                vertical_neon(src, stride, shift, row_bytes, vc, out_h, out, out_stride);
                return;
            }
#endif
            vertical_scalar(src, stride, shift, row_bytes, vc, out_h, out, out_stride, acc);
        };
        auto hpass = [&](const uint8_t* src, int rows, const Coefficients& hc, uint8_t* dst, std::ptrdiff_t dst_stride) {
#ifdef WP_X86
            if (avx2) {
                horizontal_avx2(src, in_stride, rows, in_w, c, hc, out_w, dst, dst_stride);
                return;
            }
#elif defined(__aarch64__)
            if (neon) {
                horizontal_neon(src, in_stride, rows, in_w, c, hc, out_w, dst, dst_stride);
                return;
            }
#endif
            horizontal_scalar(src, in_stride, rows, c, hc, out_w, dst, dst_stride);
        };
        if (!horizontal) {
            vpass(in, in_stride, 0, compute_coefficients(in_h, out_h));
            return true;
        }
        const Coefficients hc = compute_coefficients(in_w, out_w);
        if (!vertical) {
            hpass(in, in_h, hc, out, out_stride);
            return true;
        }
        const Coefficients vc = compute_coefficients(in_h, out_h);
        // Only the input rows the vertical pass reads go through the horizontal pass.
        const int first_row = vc.first[0];
        const int last_row = vc.first[static_cast<std::size_t>(out_h) - 1] + vc.count[static_cast<std::size_t>(out_h) - 1];
        const std::ptrdiff_t tmp_stride = static_cast<std::ptrdiff_t>(out_w) * c;
        std::vector<uint8_t> tmp(static_cast<std::size_t>(last_row - first_row) * static_cast<std::size_t>(tmp_stride));
        hpass(in + first_row * in_stride, last_row - first_row, hc, tmp.data(), tmp_stride);
        vpass(tmp.data(), tmp_stride, first_row, vc);
        return true;
    } catch (const std::bad_alloc&) {
        return false;
    }
}

void premultiply(const uint8_t* in, uint8_t* out, std::size_t pixels, int c) {
    const int a = c - 1;
    for (std::size_t i = 0; i < pixels; i++) {
        const uint8_t* p = in + i * c;
        uint8_t* q = out + i * c;
        const unsigned alpha = p[a];
        for (int ch = 0; ch < a; ch++) {
            const unsigned t = p[ch] * alpha + 128;
            q[ch] = static_cast<uint8_t>(((t >> 8) + t) >> 8);
        }
        q[a] = static_cast<uint8_t>(alpha);
    }
}

void unpremultiply(uint8_t* img, std::ptrdiff_t stride, int rows, int cols, int c) {
    const int a = c - 1;
    for (int y = 0; y < rows; y++) {
        uint8_t* p = img + y * stride;
        for (int x = 0; x < cols; x++, p += c) {
            const unsigned alpha = p[a];
            if (alpha == 0 || alpha == 255) continue;
            for (int ch = 0; ch < a; ch++) {
                const unsigned v = (255u * p[ch]) / alpha;
                p[ch] = static_cast<uint8_t>(v > 255 ? 255 : v);
            }
        }
    }
}

}  // namespace webpolicy
