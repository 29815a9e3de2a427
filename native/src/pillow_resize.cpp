// Pillow's BILINEAR resize on 8-bit images, reproduced from its documented arithmetic
// (PILLOW_RESIZE.md): coefficients in IEEE double (built without -ffast-math and with
// -ffp-contract=off so the doubles match Java's), 22-bit fixed point, a horizontal pass into an
// 8-bit intermediate, then a vertical pass.
#include "pillow_resize.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

// AddressSanitizer does not instrument AVX2 gathers: sanitizer builds check every gathered
// address explicitly (see check_gather), so the C++ tests catch an out-of-bounds gather too.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define WP_CHECK_GATHERS 1
#endif

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

#ifdef WP_CHECK_GATHERS
__attribute__((target("avx2"))) void check_gather(const uint8_t* base, __m256i byte_offsets) {
    alignas(32) int32_t offs[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(offs), byte_offsets);
    for (int l = 0; l < 8; l++) {
        const void* bad = __asan_region_is_poisoned(const_cast<uint8_t*>(base + offs[l]), 4);
        if (bad != nullptr) {
            std::fprintf(stderr, "AVX2 gather reads poisoned memory at %p (lane %d, offset %d)\n", bad, l, offs[l]);
            std::abort();
        }
    }
}
#endif

// Eight output pixels at a time: one 32-bit gather per tap fetches the (up to 4) channels of
// the eight input pixels; each channel is masked out and multiplied by the eight weights.
// Taps past an output's own window have weight 0 and a clamped (in-row) offset, so the sums
// are exactly the scalar ones.
template <int C>
__attribute__((target("avx2"))) void horizontal_avx2_c(const uint8_t* in, std::ptrdiff_t in_stride, int rows,
                                                       int in_w, const Coefficients& hc, int out_w, uint8_t* out,
                                                       std::ptrdiff_t out_stride) {
    const int ksize = hc.ksize;
    const int blocks = (out_w + 7) / 8;
    const int padded = blocks * 8;
    std::vector<int32_t> offs(static_cast<std::size_t>(ksize) * padded, 0);
    std::vector<int32_t> wts(static_cast<std::size_t>(ksize) * padded, 0);
    std::vector<int> taps(static_cast<std::size_t>(blocks), 0);
    for (int xx = 0; xx < out_w; xx++) {
        const int n = hc.count[xx];
        for (int j = 0; j < ksize; j++) {
            const int x = std::min(hc.first[xx] + j, in_w - 1);
            offs[static_cast<std::size_t>(j) * padded + xx] = x * C;
            wts[static_cast<std::size_t>(j) * padded + xx] = j < n ? hc.weights[static_cast<std::size_t>(xx) * ksize + j] : 0;
        }
        taps[static_cast<std::size_t>(xx / 8)] = std::max(taps[static_cast<std::size_t>(xx / 8)], n);
    }
    // A gather reads 4 bytes per pixel: for C < 4 the last pixel of a row reads up to 3 bytes
    // into the next row. Rows whose read would pass the end of the rows given (the last one, or
    // more when rows are shorter than 4 bytes) are read from a padded copy instead.
    std::vector<uint8_t> padded_row(static_cast<std::size_t>(in_w) * C + 4, 0);
    const std::ptrdiff_t total = static_cast<std::ptrdiff_t>(rows) * in_stride;
    const std::ptrdiff_t read_end = static_cast<std::ptrdiff_t>(in_w) * C + (4 - C);

    const __m256i half = _mm256_set1_epi32(kHalf);
    const __m256i byte_mask = _mm256_set1_epi32(0xff);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i max8 = _mm256_set1_epi32(255);
    alignas(32) int32_t px[8];
    for (int y = 0; y < rows; y++) {
        const uint8_t* row = in + y * in_stride;
        if (C < 4 && y * in_stride + read_end > total) {
            std::memcpy(padded_row.data(), row, static_cast<std::size_t>(in_w) * C);
            row = padded_row.data();
        }
        const int* row_i = reinterpret_cast<const int*>(row);
        uint8_t* o = out + y * out_stride;
        for (int b = 0; b < blocks; b++) {
            const int xb = b * 8;
            __m256i acc[C];
            for (int ch = 0; ch < C; ch++) acc[ch] = half;
            const int n = taps[static_cast<std::size_t>(b)];
            for (int j = 0; j < n; j++) {
                const std::size_t t = static_cast<std::size_t>(j) * padded + xb;
                const __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offs.data() + t));
                const __m256i k = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wts.data() + t));
#ifdef WP_CHECK_GATHERS
                check_gather(row, idx);
#endif
                const __m256i g = _mm256_i32gather_epi32(row_i, idx, 1);
                for (int ch = 0; ch < C; ch++) {
                    const __m256i v = ch == 0 ? _mm256_and_si256(g, byte_mask)
                                              : _mm256_and_si256(_mm256_srli_epi32(g, 8 * ch), byte_mask);
                    acc[ch] = _mm256_add_epi32(acc[ch], _mm256_mullo_epi32(v, k));
                }
            }
            __m256i pix = zero;
            for (int ch = 0; ch < C; ch++) {
                __m256i v = _mm256_srai_epi32(acc[ch], kPrecisionBits);
                v = _mm256_min_epi32(_mm256_max_epi32(v, zero), max8);
                pix = _mm256_or_si256(pix, ch == 0 ? v : _mm256_slli_epi32(v, 8 * ch));
            }
            const int lanes = std::min(8, out_w - xb);
            if (C == 4 && lanes == 8) {
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + xb * 4), pix);
            } else {
                _mm256_store_si256(reinterpret_cast<__m256i*>(px), pix);
                for (int l = 0; l < lanes; l++) std::memcpy(o + (xb + l) * C, &px[l], C);
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
#else
        const bool avx2 = false;
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
#endif
            vertical_scalar(src, stride, shift, row_bytes, vc, out_h, out, out_stride, acc);
        };
        auto hpass = [&](const uint8_t* src, int rows, const Coefficients& hc, uint8_t* dst, std::ptrdiff_t dst_stride) {
#ifdef WP_X86
            if (avx2) {
                horizontal_avx2(src, in_stride, rows, in_w, c, hc, out_w, dst, dst_stride);
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
