// The AVX2 kernels of the Pillow-exact resize (x86-64), the same integer arithmetic as the
// scalar kernels of pillow_resize.cpp in 32-bit lanes, so the same bytes. Compiled everywhere;
// empty except for cpu_has_avx2() on other architectures. Only these functions are compiled for
// AVX2 (target attribute), so the library runs on any x86-64 CPU.
#include "pillow_resize.h"

#include <algorithm>
#include <cstring>
#include <memory>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define WP_X86 1
#endif

namespace webpolicy {

#ifdef WP_X86

namespace {

constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

inline uint8_t clip8(int32_t acc) {
    const int32_t v = acc >> kPrecisionBits;
    return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

}  // namespace


// Two output pixels per vector (one per 128-bit lane), four taps per step: a 16-byte load
// from each output's window start holds its next four pixels; a byte shuffle spreads channel c
// of those four pixels into four 32-bit lanes, multiplied by the four weights. No gathers.
// Taps past an output's window have weight 0; the bytes they read are inside the rows given or
// in a padded copy of the row.
namespace {

template <int C>
__attribute__((target("avx2"))) void horizontal_avx2_c(const uint8_t* in, std::ptrdiff_t in_stride, int rows,
                                                       int in_w, const Coefficients& hc, int out_w, uint8_t* out,
                                                       std::ptrdiff_t out_stride, std::unique_ptr<KernelPlan>& slot) {
    struct Plan : KernelPlan {
        int pairs;
        int max_groups;
        std::vector<int32_t> wts;
        std::vector<int> groups;
        std::vector<int> starts;
        std::ptrdiff_t read_end;
        std::vector<uint8_t> padded_row;
    };
    if (!slot) {
        auto plan = std::make_unique<Plan>();
        const int ksize = hc.ksize;
        const int pairs = (out_w + 1) / 2;
        // Weights per pair and step: 8 ints, [4 taps of the even output | 4 taps of the odd one].
        const int max_groups = (ksize + 3) / 4;
        plan->pairs = pairs;
        plan->max_groups = max_groups;
        std::vector<int32_t>& wts = plan->wts;
        std::vector<int>& groups = plan->groups;
        std::vector<int>& starts = plan->starts;
        wts.assign(static_cast<std::size_t>(pairs) * max_groups * 8, 0);
        groups.assign(static_cast<std::size_t>(pairs), 0);
        starts.assign(static_cast<std::size_t>(pairs) * 2, 0);
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
        plan->read_end = read_end;
        plan->padded_row.assign(static_cast<std::size_t>(read_end), 0);
        slot = std::move(plan);
    }
    // Built for these coefficients, hence for this in_w and out_w (cached_coefficients' key).
    Plan& plan = static_cast<Plan&>(*slot);
    const int pairs = plan.pairs;
    const int max_groups = plan.max_groups;
    const std::vector<int32_t>& wts = plan.wts;
    const std::vector<int>& groups = plan.groups;
    const std::vector<int>& starts = plan.starts;
    const std::ptrdiff_t read_end = plan.read_end;
    std::vector<uint8_t>& padded_row = plan.padded_row;
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

}  // namespace

__attribute__((target("avx2"))) void horizontal_avx2(const uint8_t* in, std::ptrdiff_t in_stride, int rows, int in_w,
                                                     int c, const Coefficients& hc, int out_w, uint8_t* out,
                                                     std::ptrdiff_t out_stride) {
    // The coefficients' plan slot for c channels holds the multiply-add kernel's plan when it
    // fits this geometry, else the pair kernel's plan.
    struct Plans : KernelPlan {
        std::unique_ptr<KernelPlan> multiply_add;
        std::unique_ptr<KernelPlan> pairs;
    };
    std::unique_ptr<KernelPlan>& slot = hc.plans[c - 1];
    if (!slot) {
        auto plans = std::make_unique<Plans>();
        plans->multiply_add = multiply_add_plan(c, in_w, hc, out_w);
        slot = std::move(plans);
    }
    Plans& plans = static_cast<Plans&>(*slot);
    if (plans.multiply_add) {
        horizontal_avx2_multiply_add(in, in_stride, rows, in_w, c, *plans.multiply_add, out_w, out, out_stride);
        return;
    }
    std::unique_ptr<KernelPlan>& pairs = plans.pairs;
    switch (c) {
        case 1: horizontal_avx2_c<1>(in, in_stride, rows, in_w, hc, out_w, out, out_stride, pairs); break;
        case 2: horizontal_avx2_c<2>(in, in_stride, rows, in_w, hc, out_w, out, out_stride, pairs); break;
        case 3: horizontal_avx2_c<3>(in, in_stride, rows, in_w, hc, out_w, out, out_stride, pairs); break;
        default: horizontal_avx2_c<4>(in, in_stride, rows, in_w, hc, out_w, out, out_stride, pairs); break;
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

}  // namespace webpolicy
