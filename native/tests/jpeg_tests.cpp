// The JPEG codec of jpeg_codec.cpp: round trips of grey and RGB images within JPEG's error, band
// by band with the compressed bytes moved to another address between bands (as a Java array may
// move between calls), and refusals: data cut short, a header that disagrees with the sizes
// asked for, a too small output buffer, bad arguments. A build without libjpeg-turbo checks
// that every function says so. Buffers are vectors of the exact size, for AddressSanitizer.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "webpolicy_native.h"

namespace {

int failures = 0;

// Smooth colour gradients and one darker box (a hard edge in luma only: 4:2:0 halves chroma, so a
// hard colour edge is off by far more than a few levels at any quality).
std::vector<uint8_t> scene(int h, int w, int c) {
    std::vector<uint8_t> v(static_cast<std::size_t>(h) * w * c);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            for (int k = 0; k < c; k++) {
                const bool box = x > w / 3 && x < w / 2 && y > h / 4 && y < h / 2;
                const int base = 40 + x * 130 / w + y * 40 / h + 20 * k;  // at most 249
                v[(static_cast<std::size_t>(y) * w + x) * c + k] = static_cast<uint8_t>(box ? base - 40 : base);
            }
        }
    }
    return v;
}

std::vector<uint8_t> encode(const std::vector<uint8_t>& px, int h, int w, int c, int quality) {
    std::vector<uint8_t> out(static_cast<std::size_t>(h) * w * c + 4096);
    const int64_t n = wp_jpeg_encode_u8(px.data(), static_cast<int64_t>(px.size()), 0, h, w, c, quality, out.data(),
                                        static_cast<int64_t>(out.size()));
    CHECK(n > 0, "encode %dx%dx%d q%d: status %lld", h, w, c, quality, static_cast<long long>(n));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

std::string message(int64_t d) {
    char buf[256];
    wp_jpeg_decoder_message(d, buf, sizeof buf);
    return buf;
}

// Decodes in bands of `band` rows; between bands the compressed bytes move to a fresh vector.
int decode(const std::vector<uint8_t>& jpeg, int h, int w, int c, int band, std::vector<uint8_t>& out,
           std::string* why) {
    out.assign(static_cast<std::size_t>(h) * w * c, 0);
    const int64_t d = wp_jpeg_decoder_new();
    if (d == 0) return WP_ENOMEM;
    std::vector<uint8_t> data = jpeg;
    int status = wp_jpeg_decoder_start(d, data.data(), static_cast<int64_t>(data.size()), h, w, c);
    while (status >= 0 && status < h) {
        std::vector<uint8_t> moved = data;  // another address, same bytes
        data.swap(moved);
        std::memset(moved.data(), 0xEE, moved.size());  // the old copy must not be read again
        status = wp_jpeg_decoder_read(d, data.data(), static_cast<int64_t>(data.size()), band, out.data(),
                                      static_cast<int64_t>(out.size()));
    }
    if (status < 0 && why != nullptr) *why = message(d);
    wp_jpeg_decoder_free(d);
    return status < 0 ? status : WP_OK;
}

int max_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
    int m = 0;
    for (std::size_t i = 0; i < a.size(); i++) m = std::max(m, std::abs(a[i] - b[i]));
    return m;
}

double mean_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); i++) s += std::abs(a[i] - b[i]);
    return s / static_cast<double>(a.size());
}

void test_round_trips() {
    const int sizes[][2] = {{1, 1}, {7, 13}, {16, 16}, {224, 224}, {33, 200}};
    for (const auto& hw : sizes) {
        for (int c : {1, 3}) {
            const int h = hw[0];
            const int w = hw[1];
            const std::vector<uint8_t> px = scene(h, w, c);
            const std::vector<uint8_t> jpeg = encode(px, h, w, c, 90);
            CHECK(jpeg.size() > 4 && jpeg[0] == 0xFF && jpeg[1] == 0xD8 && jpeg[jpeg.size() - 2] == 0xFF
                      && jpeg[jpeg.size() - 1] == 0xD9,
                  "%dx%dx%d: not a whole JPEG", h, w, c);
            // Baseline (SOF0), as the JDK writes and our header check accepts.
            bool sof0 = false;
            for (std::size_t i = 2; i + 1 < jpeg.size(); i++) {
                if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) sof0 = true;
                if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) break;
            }
            CHECK(sof0, "%dx%dx%d: no baseline frame header", h, w, c);
            std::vector<uint8_t> whole;
            std::vector<uint8_t> banded;
            CHECK(decode(jpeg, h, w, c, h, whole, nullptr) == WP_OK, "%dx%dx%d: decode", h, w, c);
            CHECK(decode(jpeg, h, w, c, 5, banded, nullptr) == WP_OK, "%dx%dx%d: banded decode", h, w, c);
            CHECK(whole == banded, "%dx%dx%d: bands of 5 rows decode to other bytes than one call", h, w, c);
            if (h * w >= 256) {
                CHECK(mean_diff(px, whole) < 3.0, "%dx%dx%d: mean |diff| %.2f", h, w, c, mean_diff(px, whole));
            }
        }
    }
    // Quality matters: q1 is smaller and further off than q100.
    const std::vector<uint8_t> px = scene(64, 64, 3);
    const std::vector<uint8_t> q1 = encode(px, 64, 64, 3, 1);
    const std::vector<uint8_t> q100 = encode(px, 64, 64, 3, 100);
    std::vector<uint8_t> d1;
    std::vector<uint8_t> d100;
    CHECK(decode(q1, 64, 64, 3, 64, d1, nullptr) == WP_OK && decode(q100, 64, 64, 3, 64, d100, nullptr) == WP_OK,
          "q1/q100 decode");
    CHECK(q1.size() < q100.size() && mean_diff(px, d1) > mean_diff(px, d100),
          "q1: %zu bytes, mean %.2f; q100: %zu bytes, mean %.2f", q1.size(), mean_diff(px, d1), q100.size(),
          mean_diff(px, d100));
    CHECK(max_diff(px, d100) <= 16, "q100 max |diff| %d", max_diff(px, d100));
}

void test_refusals() {
    const std::vector<uint8_t> px = scene(64, 64, 3);
    const std::vector<uint8_t> jpeg = encode(px, 64, 64, 3, 90);
    std::vector<uint8_t> out;
    std::string why;
    // The entropy data cut to a third, an end marker put back: the decoder runs out of data.
    std::size_t sos = 0;
    for (std::size_t i = 2; i + 1 < jpeg.size(); i++) {
        if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) {
            sos = i;
            break;
        }
    }
    const std::size_t data_start = sos + 2 + (jpeg[sos + 2] << 8 | jpeg[sos + 3]);
    std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(data_start
                                                                                        + (jpeg.size() - data_start) / 3));
    if (cut.back() == 0xFF) cut.back() = 0;
    cut.push_back(0xFF);
    cut.push_back(0xD9);
    CHECK(decode(cut, 64, 64, 3, 16, out, &why) == WP_EJPEG, "cut scan data decoded");
    CHECK(!why.empty(), "no reason for the cut scan data");
    std::printf("jpeg: cut scan data refused: %s\n", why.c_str());
    // Data that stops in the middle: no end marker to fall back on.
    std::vector<uint8_t> half(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(jpeg.size() / 2));
    CHECK(decode(half, 64, 64, 3, 16, out, &why) == WP_EJPEG, "half a JPEG decoded");
    // Sizes other than the header's.
    CHECK(decode(jpeg, 64, 65, 3, 64, out, &why) == WP_EJPEG, "a 64x64 JPEG decoded as 64x65");
    CHECK(why.find("64x64x3") != std::string::npos, "reason: %s", why.c_str());
    CHECK(decode(jpeg, 64, 64, 1, 64, out, &why) == WP_EJPEG, "an RGB JPEG decoded as grey");
    // Not a JPEG at all.
    std::vector<uint8_t> junk(200, 0x42);
    CHECK(decode(junk, 8, 8, 3, 8, out, &why) == WP_EJPEG, "junk decoded");
    // The encoder's output buffer too small: WP_EBOUNDS, for the caller to retry with more.
    std::vector<uint8_t> small(100);
    CHECK(wp_jpeg_encode_u8(px.data(), static_cast<int64_t>(px.size()), 0, 64, 64, 3, 90, small.data(),
                            static_cast<int64_t>(small.size())) == WP_EBOUNDS,
          "a 100-byte buffer held a 64x64 JPEG");
    // Arguments.
    std::vector<uint8_t> big(64 * 64 * 3 + 4096);
    const int64_t big_len = static_cast<int64_t>(big.size());
    CHECK(wp_jpeg_encode_u8(px.data(), 64 * 64 * 3 - 1, 0, 64, 64, 3, 90, big.data(), big_len) == WP_EBOUNDS, "src short");
    CHECK(wp_jpeg_encode_u8(px.data(), 64 * 64 * 3, 0, 64, 64, 4, 90, big.data(), big_len) == WP_EINVAL, "4 channels");
    CHECK(wp_jpeg_encode_u8(px.data(), 64 * 64 * 3, 0, 64, 64, 3, 0, big.data(), big_len) == WP_EINVAL, "quality 0");
    CHECK(wp_jpeg_encode_u8(px.data(), 64 * 64 * 3, 0, 64, 64, 3, 101, big.data(), big_len) == WP_EINVAL, "quality 101");
    CHECK(wp_jpeg_encode_u8(px.data(), 64 * 64 * 3, 0, 0, 64, 3, 90, big.data(), big_len) == WP_EINVAL, "height 0");
    const int64_t d = wp_jpeg_decoder_new();
    CHECK(d != 0, "decoder");
    std::vector<uint8_t> dst(64 * 64 * 3);
    CHECK(wp_jpeg_decoder_read(d, jpeg.data(), static_cast<int64_t>(jpeg.size()), 8, dst.data(),
                               static_cast<int64_t>(dst.size())) == WP_EINVAL,
          "read before start");
    CHECK(wp_jpeg_decoder_start(d, jpeg.data(), static_cast<int64_t>(jpeg.size()), 64, 64, 3) == WP_OK, "start");
    CHECK(wp_jpeg_decoder_read(d, jpeg.data(), static_cast<int64_t>(jpeg.size()) - 1, 8, dst.data(),
                               static_cast<int64_t>(dst.size())) == WP_EINVAL,
          "other data length");
    CHECK(wp_jpeg_decoder_read(d, jpeg.data(), static_cast<int64_t>(jpeg.size()), 8, dst.data(),
                               static_cast<int64_t>(dst.size()) - 1) == WP_EBOUNDS,
          "dst short");
    CHECK(wp_jpeg_decoder_read(d, jpeg.data(), static_cast<int64_t>(jpeg.size()), 8, dst.data(),
                               static_cast<int64_t>(dst.size())) == 8,
          "8 rows");
    wp_jpeg_decoder_free(d);  // freed half-way: no leak (LeakSanitizer)
}

// Pixels read at an offset inside a larger buffer (a Java array's slice, a direct buffer's
// region) encode to the same bytes as the same pixels on their own; an offset past the pixels is
// refused before anything is read.
void test_offset() {
    const std::vector<uint8_t> px = scene(48, 40, 3);
    const std::vector<uint8_t> alone = encode(px, 48, 40, 3, 90);
    std::vector<uint8_t> padded(px.size() + 100, 0x99);
    std::copy(px.begin(), px.end(), padded.begin() + 37);
    std::vector<uint8_t> out(px.size() + 4096);
    const int64_t n = wp_jpeg_encode_u8(padded.data(), static_cast<int64_t>(padded.size()), 37, 48, 40, 3, 90, out.data(),
                                        static_cast<int64_t>(out.size()));
    CHECK(n == static_cast<int64_t>(alone.size()) && std::memcmp(out.data(), alone.data(), alone.size()) == 0,
          "the pixels at offset 37 encode to %lld bytes, alone to %zu (or other bytes)", static_cast<long long>(n),
          alone.size());
    const int64_t len = static_cast<int64_t>(padded.size());
    const int64_t olen = static_cast<int64_t>(out.size());
    CHECK(wp_jpeg_encode_u8(padded.data(), len, 101, 48, 40, 3, 90, out.data(), olen) == WP_EBOUNDS,
          "an offset leaving one pixel too few");
    CHECK(wp_jpeg_encode_u8(padded.data(), len, len + 1, 48, 40, 3, 90, out.data(), olen) == WP_EBOUNDS,
          "an offset past the buffer");
    CHECK(wp_jpeg_encode_u8(padded.data(), len, -1, 48, 40, 3, 90, out.data(), olen) == WP_EINVAL, "a negative offset");
}

}  // namespace

// The number of failures.
int run_jpeg_tests() {
    if (wp_jpeg_available() == 0) {
        std::vector<uint8_t> px(64 * 64 * 3);
        std::vector<uint8_t> out(px.size());
        CHECK(wp_jpeg_encode_u8(px.data(), 64 * 64 * 3, 0, 64, 64, 3, 90, out.data(), 64 * 64 * 3) == WP_ENOJPEG,
              "a build without JPEG encoded");
        CHECK(wp_jpeg_decoder_new() == 0, "a build without JPEG made a decoder");
        std::printf("jpeg: built without libjpeg-turbo (every function says WP_ENOJPEG)\n");
        return failures;
    }
    test_round_trips();
    test_refusals();
    test_offset();
    std::printf("jpeg: round trips, bands, refusals, argument checks, offsets\n");
    return failures;
}
