// The AVX2 multiply-add kernel of the horizontal resize pass (x86-64), chosen by horizontal_avx2
// (pillow_resize_avx2.cpp) for the geometries it fits: the same integer sums as the scalar pass,
// so the same bytes. Empty on other architectures.
#include "pillow_resize.h"

#include <algorithm>
#include <cstring>
#include <memory>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WP_X86 1
#endif

namespace webpolicy {

#ifdef WP_X86

namespace {

constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

// Eight output bytes per vector (one 32-bit lane per output byte, that is per output pixel and
// channel), two taps per step with 16-bit multiply-adds. A 22-bit weight k is split into
// kh = k >> 11 and kl = k & 2047, both 16-bit; madd gives p0 * kl0 + p1 * kl1 and
// p0 * kh0 + p1 * kh1 exactly in 32 bits, and (H << 11) + L is the 32-bit sum of the scalar
// kernel, so the bytes are the same. Each 128-bit half (four output bytes) loads 16 bytes from
// the window start of its first output pixel; a per-group byte shuffle places, for each of its
// four output bytes, that pixel's channel at taps 2s and 2s + 1 as two 16-bit values. Usable
// when every such window fits in those 16 bytes (multiply_add_plan); otherwise the pair kernel runs.
struct MaddPlan : KernelPlan {
    int groups = 0;               // ceil(out_w * C / 8)
    std::vector<int> steps;       // per group: tap pairs to run
    std::vector<int> starts;      // per group and half: byte offset of the load in the row
    std::vector<int32_t> ctrl;    // per group: 8 ints of shuffle control (32 bytes)
    std::vector<int32_t> wts;     // per group and step: 8 ints kl pairs, then 8 ints kh pairs
    int max_steps = 0;
    std::ptrdiff_t read_end = 0;
    std::vector<uint8_t> padded_row;
};

// Builds the plan, or returns nullptr when some window does not fit in its half's 16 bytes.
std::unique_ptr<MaddPlan> build_plan(int C, int in_w, const Coefficients& hc, int out_w) {
    auto plan = std::make_unique<MaddPlan>();
    const int out_bytes = out_w * C;
    const int groups = (out_bytes + 7) / 8;
    const int ksize = hc.ksize;
    const int max_steps = (ksize + 1) / 2;
    plan->groups = groups;
    plan->max_steps = max_steps;
    plan->steps.assign(static_cast<std::size_t>(groups), 0);
    plan->starts.assign(static_cast<std::size_t>(groups) * 2, 0);
    plan->ctrl.assign(static_cast<std::size_t>(groups) * 8, 0);
    plan->wts.assign(static_cast<std::size_t>(groups) * max_steps * 16, 0);
    std::ptrdiff_t read_end = static_cast<std::ptrdiff_t>(in_w) * C;
    for (int g = 0; g < groups; g++) {
        int steps = 0;
        for (int half = 0; half < 2; half++) {
            const int first_byte = std::min(g * 8 + half * 4, out_bytes - 1);
            const int base_px = first_byte / C;
            const int start = hc.first[static_cast<std::size_t>(base_px)] * C;
            plan->starts[static_cast<std::size_t>(2 * g + half)] = start;
            for (int lane = 0; lane < 4; lane++) {
                const int byte = std::min(g * 8 + half * 4 + lane, out_bytes - 1);
                const int xx = byte / C;
                const int ch = byte % C;
                const int n = hc.count[static_cast<std::size_t>(xx)];
                const int rel = hc.first[static_cast<std::size_t>(xx)] * C + ch - start;
                if (rel < 0 || rel + C > 15) return nullptr;
                steps = std::max(steps, (n + 1) / 2);
                // Bytes [p_2s, 0, p_2s+1, 0] of this lane, relative to the step's load.
                const uint32_t c0 = static_cast<uint32_t>(rel);
                const uint32_t c1 = static_cast<uint32_t>(rel + C);
                plan->ctrl[static_cast<std::size_t>(g) * 8 + half * 4 + lane] =
                    static_cast<int32_t>(c0 | (0x80u << 8) | (c1 << 16) | (0x80u << 24));
                const bool real = g * 8 + half * 4 + lane < out_bytes;
                for (int j = 0; j < n && real; j++) {
                    const int32_t k = hc.weights[static_cast<std::size_t>(xx) * ksize + j];
                    const int32_t kh = k >> 11;
                    const int32_t kl = k & 2047;
                    if (kh < -32768 || kh > 32767) return nullptr;
                    int16_t* w = reinterpret_cast<int16_t*>(plan->wts.data() +
                                                            (static_cast<std::size_t>(g) * max_steps + j / 2) * 16);
                    w[(half * 4 + lane) * 2 + j % 2] = static_cast<int16_t>(kl);
                    w[16 + (half * 4 + lane) * 2 + j % 2] = static_cast<int16_t>(kh);
                }
            }
        }
        plan->steps[static_cast<std::size_t>(g)] = steps;
        for (int half = 0; half < 2; half++) {
            const std::ptrdiff_t end =
                plan->starts[static_cast<std::size_t>(2 * g + half)] + static_cast<std::ptrdiff_t>(steps - 1) * 2 * C + 16;
            read_end = std::max(read_end, end);
        }
    }
    plan->read_end = read_end;
    plan->padded_row.assign(static_cast<std::size_t>(read_end), 0);
    return plan;
}

// Stores one group's eight sums (lane i: output byte i) as bytes, clamped as clip8 does.
__attribute__((target("avx2"))) inline void store_group(__m256i lo, __m256i hi, uint8_t* o, int bytes) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i v = _mm256_srai_epi32(_mm256_add_epi32(_mm256_slli_epi32(hi, 11), lo), kPrecisionBits);
    const __m256i w16 = _mm256_packus_epi32(v, v);
    const __m256i b8 = _mm256_packus_epi16(w16, w16);
    // Lane 0 of each half holds its four bytes; gather them into the low eight bytes.
    const __m128i packed = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(b8, order));
    if (bytes == 8) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(o), packed);
    } else {
        alignas(16) uint8_t tail[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(tail), packed);
        std::memcpy(o, tail, static_cast<std::size_t>(bytes));
    }
}

// R rows (1 or 2) at once: the rows share the shuffle control and weight loads.
template <int C, int R>
__attribute__((target("avx2"))) void horizontal_madd_rows(const uint8_t* const* rows, uint8_t* const* outs,
                                                          const MaddPlan& plan, int out_bytes) {
    const __m256i half = _mm256_set1_epi32(kHalf);
    const int max_steps = plan.max_steps;
    for (int g = 0; g < plan.groups; g++) {
        const int sa = plan.starts[static_cast<std::size_t>(2 * g)];
        const int sb = plan.starts[static_cast<std::size_t>(2 * g + 1)];
        const __m256i ctrl = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(plan.ctrl.data() + g * 8));
        const int32_t* k = plan.wts.data() + static_cast<std::size_t>(g) * max_steps * 16;
        // The rounding half starts the low sum: (hi << 11) + lo then equals the scalar accumulator.
        __m256i lo[R];
        __m256i hi[R];
        for (int r = 0; r < R; r++) {
            lo[r] = half;
            hi[r] = _mm256_setzero_si256();
        }
        const int ns = plan.steps[static_cast<std::size_t>(g)];
        for (int s = 0; s < ns; s++, k += 16) {
            const __m256i kl = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(k));
            const __m256i kh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(k + 8));
            for (int r = 0; r < R; r++) {
                const uint8_t* row = rows[r] + 2 * C * s;
                const __m256i v = _mm256_inserti128_si256(
                    _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + sa))),
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + sb)), 1);
                const __m256i px = _mm256_shuffle_epi8(v, ctrl);
                lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(px, kl));
                hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(px, kh));
            }
        }
        const int bytes = std::min(8, out_bytes - g * 8);
        for (int r = 0; r < R; r++) store_group(lo[r], hi[r], outs[r] + g * 8, bytes);
    }
}

template <int C>
void horizontal_madd(const uint8_t* in, std::ptrdiff_t in_stride, int rows, int in_w, MaddPlan& plan, int out_w,
                     uint8_t* out, std::ptrdiff_t out_stride) {
    const int out_bytes = out_w * C;
    const std::ptrdiff_t total = static_cast<std::ptrdiff_t>(rows) * in_stride;
    int y = 0;
    // Rows whose reads stay inside the rows given, two at a time.
    for (; y + 1 < rows && (y + 1) * in_stride + plan.read_end <= total; y += 2) {
        const uint8_t* r[2] = {in + y * in_stride, in + (y + 1) * in_stride};
        uint8_t* o[2] = {out + y * out_stride, out + (y + 1) * out_stride};
        horizontal_madd_rows<C, 2>(r, o, plan, out_bytes);
    }
    for (; y < rows; y++) {
        const uint8_t* r[1] = {in + y * in_stride};
        if (y * in_stride + plan.read_end > total) {
            std::memcpy(plan.padded_row.data(), r[0], static_cast<std::size_t>(in_w) * C);
            r[0] = plan.padded_row.data();
        }
        uint8_t* o[1] = {out + y * out_stride};
        horizontal_madd_rows<C, 1>(r, o, plan, out_bytes);
    }
}

}  // namespace

std::unique_ptr<KernelPlan> multiply_add_plan(int c, int in_w, const Coefficients& hc, int out_w) {
    return build_plan(c, in_w, hc, out_w);
}

void horizontal_avx2_multiply_add(const uint8_t* in, std::ptrdiff_t in_stride, int rows, int in_w, int c,
                                  KernelPlan& plan, int out_w, uint8_t* out, std::ptrdiff_t out_stride) {
    MaddPlan& m = static_cast<MaddPlan&>(plan);
    switch (c) {
        case 1: horizontal_madd<1>(in, in_stride, rows, in_w, m, out_w, out, out_stride); break;
        case 2: horizontal_madd<2>(in, in_stride, rows, in_w, m, out_w, out, out_stride); break;
        case 3: horizontal_madd<3>(in, in_stride, rows, in_w, m, out_w, out, out_stride); break;
        default: horizontal_madd<4>(in, in_stride, rows, in_w, m, out_w, out, out_stride); break;
    }
}

bool horizontal_avx2_uses_multiply_add(int in_w, int out_w, int c) {
    return build_plan(c, in_w, compute_coefficients(in_w, out_w), out_w) != nullptr;
}

#endif  // WP_X86

}  // namespace webpolicy
