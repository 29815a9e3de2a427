// C++ tests of the native layer, meant to run under AddressSanitizer + UBSan
// (scripts/native_asan_test) and, cross-built for aarch64, under qemu (scripts/arm64_test). Every
// buffer is a std::vector of the exact size, so any read or write past an image is reported. The
// kernels are compared, SIMD (AVX2 or NEON) and scalar, with a direct reference written for
// clarity rather than speed, and with the Python goldens (golden_cases.cpp).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "golden_cases.h"
#include "pillow_resize.h"
#include "check.h"
#include "webpolicy_native.h"

namespace {

int failures = 0;

// ---- the reference: Pillow's arithmetic spelled out, one output sample at a time ----

struct Window {
    int xmin;
    std::vector<int> k;
};

Window window(int in_size, int out_size, int xx) {
    const double scale = static_cast<double>(in_size) / out_size;
    const double fs = scale > 1.0 ? scale : 1.0;
    const double center = (xx + 0.5) * scale;
    int xmin = static_cast<int>(center - fs + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + fs + 0.5);
    if (xmax > in_size) xmax = in_size;
    std::vector<double> w;
    double sum = 0;
    for (int x = xmin; x < xmax; x++) {
        // Pillow's exact expression: (x - xmin) + xmin - center, times the reciprocal of the scale.
        const double t = ((x - xmin) + xmin - center + 0.5) * (1.0 / fs);
        const double a = std::fabs(t);
        const double v = a < 1.0 ? 1.0 - a : 0.0;
        w.push_back(v);
        sum += v;
    }
    Window out{xmin, {}};
    for (double v : w) {
        if (sum != 0.0) v /= sum;
        const double f = v * 4194304.0;
        out.k.push_back(static_cast<int>(v < 0 ? f - 0.5 : f + 0.5));
    }
    return out;
}

uint8_t clamp_shift(int64_t acc) {
    const int64_t v = acc >> 22;
    return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Plain resize without alpha handling, both passes over whole images.
std::vector<uint8_t> reference_resize(const std::vector<uint8_t>& in, int h, int w, int c, int oh, int ow) {
    std::vector<uint8_t> tmp;
    int tw = w;
    if (ow != w) {
        tmp.assign(static_cast<size_t>(h) * ow * c, 0);
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < ow; xx++) {
                const Window win = window(w, ow, xx);
                for (int ch = 0; ch < c; ch++) {
                    int64_t acc = 1 << 21;
                    for (size_t i = 0; i < win.k.size(); i++)
                        acc += static_cast<int64_t>(in[(static_cast<size_t>(y) * w + win.xmin + i) * c + ch]) * win.k[i];
                    tmp[(static_cast<size_t>(y) * ow + xx) * c + ch] = clamp_shift(acc);
                }
            }
        tw = ow;
    } else {
        tmp = in;
    }
    if (oh == h) return tmp;
    std::vector<uint8_t> out(static_cast<size_t>(oh) * tw * c, 0);
    for (int yy = 0; yy < oh; yy++) {
        const Window win = window(h, oh, yy);
        for (int x = 0; x < tw * c; x++) {
            int64_t acc = 1 << 21;
            for (size_t i = 0; i < win.k.size(); i++)
                acc += static_cast<int64_t>(tmp[(win.xmin + i) * static_cast<size_t>(tw) * c + x]) * win.k[i];
            out[static_cast<size_t>(yy) * tw * c + x] = clamp_shift(acc);
        }
    }
    return out;
}

std::vector<uint8_t> reference_resize_with_pad(const std::vector<uint8_t>& img, int h, int w, int c, int oh, int ow,
                                               int* rh_out, int* rw_out) {
    const double ratio = std::max(static_cast<double>(w) / ow, static_cast<double>(h) / oh);
    const int rh = static_cast<int>(h / ratio);
    const int rw = static_cast<int>(w / ratio);
    *rh_out = rh;
    *rw_out = rw;
    std::vector<uint8_t> in = img;
    const bool alpha = c == 2 || c == 4;
    if (alpha)
        for (size_t p = 0; p < in.size(); p += c)
            for (int ch = 0; ch < c - 1; ch++) {
                const unsigned t = img[p + ch] * img[p + c - 1] + 128u;
                in[p + ch] = static_cast<uint8_t>(((t >> 8) + t) >> 8);
            }
    std::vector<uint8_t> r = reference_resize(in, h, w, c, rh, rw);
    if (alpha)
        for (size_t p = 0; p < r.size(); p += c) {
            const unsigned a = r[p + c - 1];
            if (a == 0 || a == 255) continue;
            for (int ch = 0; ch < c - 1; ch++) r[p + ch] = static_cast<uint8_t>(std::min(255u, 255u * r[p + ch] / a));
        }
    const int top = std::max(0, static_cast<int>((oh - rh) / 2.0));
    const int left = std::max(0, static_cast<int>((ow - rw) / 2.0));
    std::vector<uint8_t> out(static_cast<size_t>(oh) * ow * c, 0);
    for (int y = 0; y < rh; y++)
        std::memcpy(&out[((static_cast<size_t>(y) + top) * ow + left) * c], &r[static_cast<size_t>(y) * rw * c],
                    static_cast<size_t>(rw) * c);
    return out;
}

std::vector<uint8_t> random_image(std::mt19937& rng, int h, int w, int c) {
    std::vector<uint8_t> v(static_cast<size_t>(h) * w * c);
    const int pattern = static_cast<int>(rng() % 3);
    for (size_t i = 0; i < v.size(); i++) {
        if (pattern == 0) v[i] = static_cast<uint8_t>(rng());
        else if (pattern == 1) v[i] = (rng() % 2) ? 255 : 0;  // hard edges: saturating sums
        else v[i] = static_cast<uint8_t>((i * 7) / (v.size() / 255 + 1));
    }
    return v;
}

void check_case(std::mt19937& rng, int h, int w, int c, int oh, int ow) {
    const std::vector<uint8_t> img = random_image(rng, h, w, c);
    int rh, rw;
    const double ratio = std::max(static_cast<double>(w) / ow, static_cast<double>(h) / oh);
    if (static_cast<int>(h / ratio) <= 0 || static_cast<int>(w / ratio) <= 0) return;
    const std::vector<uint8_t> want = reference_resize_with_pad(img, h, w, c, oh, ow, &rh, &rw);
    const int top = std::max(0, static_cast<int>((oh - rh) / 2.0));
    const int left = std::max(0, static_cast<int>((ow - rw) / 2.0));
    for (int simd = 0; simd <= 1; simd++) {
        wp_set_simd_enabled(simd);
        std::vector<uint8_t> got(static_cast<size_t>(oh) * ow * c, 0xEE);  // the padding must be written
        const int rc = wp_resize_with_pad_u8(img.data(), static_cast<int64_t>(img.size()), 0, h, w, c, rh, rw, top,
                                             left, oh, ow, got.data(), static_cast<int64_t>(got.size()), 0);
        CHECK(rc == WP_OK, "status %d for %dx%dx%d -> %dx%d", rc, h, w, c, oh, ow);
        if (got != want) {
            size_t i = 0;
            while (got[i] == want[i]) i++;
            CHECK(false, "%dx%dx%d -> %dx%d (simd %d): byte %zu is %d, reference %d", h, w, c, oh, ow, simd, i,
                  got[i], want[i]);
        }
    }
    wp_set_simd_enabled(1);
}

void test_random_cases() {
    std::mt19937 rng(12345);
    int cases = 0;
    for (int i = 0; i < 400; i++) {
        const int c = 1 + static_cast<int>(rng() % 4);
        const int h = 1 + static_cast<int>(rng() % (i % 5 == 0 ? 300 : 40));
        const int w = 1 + static_cast<int>(rng() % (i % 7 == 0 ? 300 : 40));
        const int oh = 1 + static_cast<int>(rng() % 64);
        const int ow = 1 + static_cast<int>(rng() % 64);
        check_case(rng, h, w, c, oh, ow);
        cases++;
    }
    // Golden-like sizes and edges: 1-pixel, extreme aspect ratios, up, down and mixed.
    const int sizes[][4] = {{480, 640, 224, 224}, {720, 1280, 224, 224}, {1, 1, 224, 224}, {1, 100, 224, 224},
                            {2, 3, 60, 80},       {40, 58, 224, 224},    {46, 46, 60, 80},  {400, 100, 224, 224},
                            {90, 400, 224, 224},  {37, 23, 96, 128},     {10, 10, 20, 20},  {240, 320, 8, 8},
                            {300, 257, 224, 224}, {1, 5000, 2, 7000},    {5000, 1, 7000, 2}, {3, 900, 5, 1}};
    for (const auto& s : sizes)
        for (int c = 1; c <= 4; c++) {
            check_case(rng, s[0], s[1], c, s[2], s[3]);
            cases++;
        }
    std::printf("resize: %d cases compared with the reference (scalar and SIMD)\n", cases);
}

// The AVX2 horizontal pass has two kernels (multiply-add when every window fits its 16-byte
// load, pairs of output pixels otherwise): both against the scalar pass, on rows of exact size
// so that any read past a row's end is reported, over widths that cross the switch-over.
void test_horizontal_kernels() {
#if defined(__x86_64__) || defined(__i386__)
    if (!webpolicy::cpu_has_avx2()) {
        std::printf("horizontal kernels: this CPU has no AVX2, only the scalar pass runs\n");
        return;
    }
    std::mt19937 rng(777);
    int multiply_add = 0, pairs = 0;
    const int out_widths[] = {1, 2, 3, 5, 7, 8, 9, 16, 23, 31, 40, 64, 100, 131, 224};
    for (int c = 1; c <= 4; c++)
        for (int in_w = 1; in_w <= 300; in_w += 1 + in_w / 8)
            for (const int out_w : out_widths) {
                if (out_w == in_w) continue;
                const int rows = 3;
                const std::vector<uint8_t> img = random_image(rng, rows, in_w, c);
                std::vector<uint8_t> scalar(static_cast<size_t>(rows) * out_w * c);
                std::vector<uint8_t> simd(scalar.size());
                const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(out_w) * c;
                CHECK(webpolicy::pillow_resize(img.data(), rows, in_w, c, rows, out_w, scalar.data(), stride, false),
                      "scalar status");
                CHECK(webpolicy::pillow_resize(img.data(), rows, in_w, c, rows, out_w, simd.data(), stride, true),
                      "simd status");
                const bool madd = webpolicy::horizontal_avx2_uses_multiply_add(in_w, out_w, c);
                (madd ? multiply_add : pairs)++;
                CHECK(simd == scalar, "%dx%d -> %d (%s kernel): AVX2 differs from scalar", in_w, c, out_w,
                      madd ? "multiply-add" : "pair");
            }
    CHECK(multiply_add > 0 && pairs > 0, "both kernels run: multiply-add %d, pair %d", multiply_add, pairs);
    std::printf("horizontal kernels: %d multiply-add and %d pair geometries equal the scalar pass\n", multiply_add,
                pairs);
#endif
}

void test_bounds_and_arguments() {
    std::vector<uint8_t> img(10 * 20 * 3, 7);
    std::vector<uint8_t> out(30 * 40 * 3, 0);
    const auto call = [&](int64_t src_len, int64_t src_off, int h, int w, int c, int rh, int rw, int top, int left,
                          int oh, int ow, int64_t dst_len, int64_t dst_off) {
        return wp_resize_with_pad_u8(img.data(), src_len, src_off, h, w, c, rh, rw, top, left, oh, ow, out.data(),
                                     dst_len, dst_off);
    };
    const int64_t in_len = static_cast<int64_t>(img.size());
    const int64_t out_len = static_cast<int64_t>(out.size());
    CHECK(call(in_len, 0, 10, 20, 3, 20, 40, 5, 0, 30, 40, out_len, 0) == WP_OK, "valid call");
    CHECK(call(in_len - 1, 0, 10, 20, 3, 20, 40, 5, 0, 30, 40, out_len, 0) == WP_EBOUNDS, "short source");
    CHECK(call(in_len, 1, 10, 20, 3, 20, 40, 5, 0, 30, 40, out_len, 0) == WP_EBOUNDS, "source offset");
    CHECK(call(in_len, 0, 10, 20, 3, 20, 40, 5, 0, 30, 40, out_len - 1, 0) == WP_EBOUNDS, "short destination");
    CHECK(call(in_len, 0, 10, 20, 3, 20, 40, 5, 0, 30, 40, out_len, -1) == WP_EBOUNDS, "negative offset");
    CHECK(call(in_len, 0, 10, 20, 3, 20, 40, 11, 0, 30, 40, out_len, 0) == WP_EINVAL, "paste below the frame");
    CHECK(call(in_len, 0, 10, 20, 3, 20, 40, 0, 1, 30, 40, out_len, 0) == WP_EINVAL, "paste right of the frame");
    CHECK(call(in_len, 0, 10, 20, 5, 20, 40, 0, 0, 30, 40, out_len, 0) == WP_EINVAL, "5 channels");
    CHECK(call(in_len, 0, 10, 20, 3, 0, 40, 0, 0, 30, 40, out_len, 0) == WP_EINVAL, "zero height");
    CHECK(call(in_len, 0, 0, 20, 3, 20, 40, 0, 0, 30, 40, out_len, 0) == WP_EINVAL, "empty input");
    CHECK(call(in_len, 0, 100000, 100000, 3, 20, 40, 0, 0, 30, 40, out_len, 0) == WP_EINVAL, "huge input");
    CHECK(call(in_len, 0, 10, 20, 3, 20, 40, 0, 0, INT32_MAX, INT32_MAX, out_len, 0) == WP_EINVAL,
          "a frame whose byte count overflows 64 bits");
    CHECK(call(in_len, 0, INT32_MAX, INT32_MAX, 4, 20, 40, 0, 0, 30, 40, out_len, 0) == WP_EINVAL,
          "an input whose byte count overflows 64 bits");
    // A frame inside a larger buffer: nothing outside it is written.
    std::vector<uint8_t> big(out.size() + 64, 0xAB);
    CHECK(wp_resize_with_pad_u8(img.data(), in_len, 0, 10, 20, 3, 20, 40, 5, 0, 30, 40, big.data(),
                                static_cast<int64_t>(big.size()), 32) == WP_OK, "offset frame");
    for (int i = 0; i < 32; i++) CHECK(big[i] == 0xAB && big[big.size() - 1 - i] == 0xAB, "guard byte %d", i);
    std::printf("bounds: checked\n");
}

void test_float_to_u8() {
    // Values and results recorded from numpy on x86-64 (golden u8_float32_out_of_range).
    const float in32[] = {-1.0f, -0.5f, -0.0038999998942017555f, -0.004000000189989805f, 1.0019999742507935f,
                          1.003999948501587f, 1.5f, 2.0f, 10.0f, -300.0f, 33025.5078125f};
    const uint8_t want32[] = {1, 129, 0, 255, 255, 0, 126, 254, 246, 44, 128};
    std::vector<uint8_t> src(sizeof in32);
    std::memcpy(src.data(), in32, sizeof in32);
    std::vector<uint8_t> out(11);
    CHECK(wp_float_to_u8(src.data(), static_cast<int64_t>(src.size()), 4, 11, out.data(), 11) == WP_OK, "f32");
    CHECK(std::memcmp(out.data(), want32, 11) == 0, "float32 casts");
    const double in64[] = {NAN, INFINITY, -INFINITY, 1e10, -1e10, 8421504.498039216, 8421505.501960784, 1e30};
    const uint8_t want64[] = {0, 0, 0, 0, 0, 255, 0, 0};
    std::vector<uint8_t> src64(sizeof in64);
    std::memcpy(src64.data(), in64, sizeof in64);
    std::vector<uint8_t> out64(8);
    CHECK(wp_float_to_u8(src64.data(), static_cast<int64_t>(src64.size()), 8, 8, out64.data(), 8) == WP_OK, "f64");
    CHECK(std::memcmp(out64.data(), want64, 8) == 0, "float64 casts");
    // float16 (golden u8_float16_rounding): 0.0039215087890625 -> 1 because 255*x rounds in float16.
    const uint16_t in16[] = {0x1C04, 0x2004, 0x2206, 0x2404, 0x3800, 0x3BFF, 0x3C00};
    const uint8_t want16[] = {1, 2, 3, 4, 127, 254, 255};
    std::vector<uint8_t> src16(sizeof in16);
    std::memcpy(src16.data(), in16, sizeof in16);
    std::vector<uint8_t> out16(7);
    CHECK(wp_float_to_u8(src16.data(), static_cast<int64_t>(src16.size()), 2, 7, out16.data(), 7) == WP_OK, "f16");
    for (int i = 0; i < 7; i++) CHECK(out16[i] == want16[i], "float16 case %d: %d, want %d", i, out16[i], want16[i]);
    CHECK(wp_float_to_u8(src.data(), static_cast<int64_t>(src.size()), 4, 12, out.data(), 12) == WP_EBOUNDS, "short");
    CHECK(wp_float_to_u8(src.data(), static_cast<int64_t>(src.size()), 3, 1, out.data(), 1) == WP_EINVAL, "item 3");
    std::printf("float_to_u8: checked\n");
}

// The SIMD conversion loop against the scalar one on every kind of value, at every length
// around the SIMD step (tails) and from unaligned addresses.
void test_float_to_u8_simd_matches_scalar() {
    std::mt19937 rng(99);
    const double specials[] = {0.0, -0.0, 1.0, -1.0, 0.5, 8421504.498039216, 2147483647.0 / 255, -2147483648.0 / 255,
                               1e10, -1e10, NAN, INFINITY, -INFINITY, 65504.0 / 255, 65520.0 / 255, 6e-8, 1e-45};
    int compared = 0;
    for (int item : {2, 4, 8}) {
        for (int n = 1; n <= 40; n++) {
            std::vector<uint8_t> src(static_cast<size_t>(n) * item + 1);
            for (int i = 0; i < n; i++) {
                const double v = rng() % 3 == 0 ? specials[rng() % (sizeof specials / sizeof specials[0])]
                                                : (static_cast<double>(rng()) / rng.max() - 0.25) * (rng() % 2 ? 2.5 : 3e5);
                uint8_t* p = src.data() + 1 + static_cast<size_t>(i) * item;  // one byte off any alignment
                if (item == 8) {
                    std::memcpy(p, &v, 8);
                } else if (item == 4) {
                    const float f = static_cast<float>(v);
                    std::memcpy(p, &f, 4);
                } else {
                    const uint16_t h = static_cast<uint16_t>(rng());  // every float16 bit pattern
                    std::memcpy(p, &h, 2);
                }
            }
            std::vector<uint8_t> simd(static_cast<size_t>(n)), scalar(static_cast<size_t>(n));
            const int64_t len = static_cast<int64_t>(src.size()) - 1;
            wp_set_simd_enabled(1);
            CHECK(wp_float_to_u8(src.data() + 1, len, item, n, simd.data(), n) == WP_OK, "simd status");
            wp_set_simd_enabled(0);
            CHECK(wp_float_to_u8(src.data() + 1, len, item, n, scalar.data(), n) == WP_OK, "scalar status");
            wp_set_simd_enabled(1);
            for (int i = 0; i < n; i++)
                CHECK(simd[static_cast<size_t>(i)] == scalar[static_cast<size_t>(i)],
                      "item size %d, n %d, element %d: SIMD %d, scalar %d", item, n, i, simd[static_cast<size_t>(i)],
                      scalar[static_cast<size_t>(i)]);
            compared += n;
        }
    }
    std::printf("float_to_u8: %d values, SIMD loop equals the scalar one\n", compared);
}

// HWC <-> CHW and the red/blue swap against index-by-index loops, each buffer of its exact size
// (so AddressSanitizer reports any stray read), round trips, and the argument checks.
void test_layout() {
    std::mt19937 rng(29);
    int cases = 0;
    for (int trial = 0; trial < 600; trial++) {
        wp_set_simd_enabled(trial % 2);  // the SIMD de-interleave and the scalar loop
        const int n = 1 + static_cast<int>(rng() % 3);
        const int h = static_cast<int>(rng() % 17);
        const int w = static_cast<int>(rng() % 41);
        const int c = 1 + static_cast<int>(rng() % 4);
        const int swap = c >= 3 ? static_cast<int>(rng() % 2) : 0;
        const std::size_t bytes = static_cast<std::size_t>(n) * h * w * c;
        std::vector<uint8_t> in(bytes), chw(bytes), back(bytes), expected(bytes);
        for (auto& b : in) b = static_cast<uint8_t>(rng());
        for (int i = 0; i < n; i++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int ch = 0; ch < c; ch++) {
                        const int from = swap && (ch == 0 || ch == 2) ? 2 - ch : ch;
                        expected[((static_cast<std::size_t>(i) * c + ch) * h + y) * w + x] =
                            in[((static_cast<std::size_t>(i) * h + y) * w + x) * c + from];
                    }
        CHECK(wp_hwc_to_chw_u8(in.data(), static_cast<int64_t>(bytes), n, h, w, c, swap, chw.data(),
                               static_cast<int64_t>(bytes)) == WP_OK, "hwc_to_chw status");
        CHECK(chw == expected, "hwc_to_chw %dx%dx%dx%d swap %d", n, h, w, c, swap);
        CHECK(wp_chw_to_hwc_u8(chw.data(), static_cast<int64_t>(bytes), n, h, w, c, swap, back.data(),
                               static_cast<int64_t>(bytes)) == WP_OK, "chw_to_hwc status");
        CHECK(back == in, "chw_to_hwc round trip %dx%dx%dx%d swap %d", n, h, w, c, swap);
        if (c >= 3) {
            std::vector<uint8_t> swapped(bytes);
            const int64_t pixels = static_cast<int64_t>(n) * h * w;
            CHECK(wp_swap_rb_u8(in.data(), static_cast<int64_t>(bytes), pixels, c, swapped.data(),
                                static_cast<int64_t>(bytes)) == WP_OK, "swap status");
            CHECK(wp_swap_rb_u8(swapped.data(), static_cast<int64_t>(bytes), pixels, c, swapped.data(),
                                static_cast<int64_t>(bytes)) == WP_OK, "in-place swap status");
            CHECK(swapped == in, "swap twice %dx%dx%dx%d", n, h, w, c);
        }
        cases++;
    }
    wp_set_simd_enabled(1);
    uint8_t buf[48] = {0};
    uint8_t out[48] = {0};
    CHECK(wp_hwc_to_chw_u8(buf, 47, 1, 4, 4, 3, 0, out, 48) == WP_EBOUNDS, "short src");
    CHECK(wp_hwc_to_chw_u8(buf, 48, 1, 4, 4, 3, 0, out, 47) == WP_EBOUNDS, "short dst");
    CHECK(wp_hwc_to_chw_u8(buf, 48, 1, 4, 4, 5, 0, out, 48) == WP_EINVAL, "5 channels");
    CHECK(wp_hwc_to_chw_u8(buf, 48, 1, 4, 6, 2, 1, out, 48) == WP_EINVAL, "swap of 2 channels");
    CHECK(wp_hwc_to_chw_u8(buf, 48, 1, 4, 4, 3, 0, buf + 8, 40) == WP_EBOUNDS, "overlap, short");
    CHECK(wp_chw_to_hwc_u8(buf, 48, 1, 2, 2, 3, 0, buf + 4, 44) == WP_EINVAL, "overlap");
    CHECK(wp_hwc_to_chw_u8(buf, 48, -1, 4, 4, 3, 0, out, 48) == WP_EINVAL, "negative count");
    CHECK(wp_hwc_to_chw_u8(buf, 48, INT64_MAX / 2, 65535, 65535, 4, 0, out, 48) == WP_EINVAL, "overflow");
    CHECK(wp_swap_rb_u8(buf, 48, 15, 3, buf + 1, 47) == WP_EINVAL, "partial overlap");
    CHECK(wp_swap_rb_u8(buf, 48, INT64_MAX / 2, 4, out, 48) == WP_EINVAL, "pixel overflow");
    CHECK(wp_swap_rb_u8(nullptr, 48, 1, 3, out, 48) == WP_EINVAL, "null");
    std::printf("layout: %d cases and the argument checks\n", cases);
}

}  // namespace

// masking_tests.cpp: the number of failures.
int run_masking_tests();
// jpeg_tests.cpp: the number of failures.
int run_jpeg_tests();

// native_tests [golden-dir]: the golden directory defaults to the source tree's.
int main(int argc, char** argv) {
    std::printf("native version %d, simd level %d\n", wp_native_version(), wp_simd_level());
    test_random_cases();
    test_horizontal_kernels();
    test_bounds_and_arguments();
    test_float_to_u8();
    test_float_to_u8_simd_matches_scalar();
    test_layout();
    failures += run_masking_tests();
    failures += run_jpeg_tests();
    failures += run_golden_cases(argc > 1 ? argv[1] : WEBPOLICY_GOLDEN_DIR);
    if (failures != 0) {
        std::printf("%d FAILURES\n", failures);
        return 1;
    }
    std::printf("all native tests passed\n");
    return 0;
}
