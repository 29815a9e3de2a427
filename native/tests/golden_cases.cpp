// Every case of src/test/resources/golden/images (outputs of the Python client: Pillow 11.3,
// numpy 1.26) through the C API, with the SIMD kernels and with the scalar ones. The files are
// openpi msgpack_numpy dicts; a small reader for the msgpack subset they use is below.
#include "golden_cases.h"

#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "webpolicy_native.h"

namespace {

struct Value {
    enum Kind { NIL, BOOL, INT, FLOAT, STR, BIN, ARRAY, MAP } kind = NIL;
    int64_t i = 0;
    double f = 0;
    std::string s;  // STR and BIN
    std::vector<Value> items;
    std::map<std::string, Value> fields;  // keys are str or bin
};

class Reader {
  public:
    explicit Reader(const std::vector<uint8_t>& b) : b_(b) {}

    Value read() {
        const uint8_t t = u(1);
        Value v;
        if (t <= 0x7f) return integer(t);
        if (t >= 0xe0) return integer(static_cast<int8_t>(t));
        if ((t & 0xf0) == 0x80) return map(t & 0x0f);
        if ((t & 0xf0) == 0x90) return array(t & 0x0f);
        if ((t & 0xe0) == 0xa0) return bytes(Value::STR, t & 0x1f);
        switch (t) {
            case 0xc0: return v;
            case 0xc2: case 0xc3: v.kind = Value::BOOL; v.i = t == 0xc3; return v;
            case 0xc4: return bytes(Value::BIN, u(1));
            case 0xc5: return bytes(Value::BIN, u(2));
            case 0xc6: return bytes(Value::BIN, u(4));
            case 0xca: { uint32_t x = static_cast<uint32_t>(u(4)); float f; std::memcpy(&f, &x, 4); v.kind = Value::FLOAT; v.f = f; return v; }
            case 0xcb: { uint64_t x = u(8); std::memcpy(&v.f, &x, 8); v.kind = Value::FLOAT; return v; }
            case 0xcc: return integer(static_cast<int64_t>(u(1)));
            case 0xcd: return integer(static_cast<int64_t>(u(2)));
            case 0xce: return integer(static_cast<int64_t>(u(4)));
            case 0xcf: return integer(static_cast<int64_t>(u(8)));
            case 0xd0: return integer(static_cast<int8_t>(u(1)));
            case 0xd1: return integer(static_cast<int16_t>(u(2)));
            case 0xd2: return integer(static_cast<int32_t>(u(4)));
            case 0xd3: return integer(static_cast<int64_t>(u(8)));
            case 0xd9: return bytes(Value::STR, u(1));
            case 0xda: return bytes(Value::STR, u(2));
            case 0xdb: return bytes(Value::STR, u(4));
            case 0xdc: return array(u(2));
            case 0xdd: return array(u(4));
            case 0xde: return map(u(2));
            case 0xdf: return map(u(4));
            default: throw std::runtime_error("unsupported msgpack type " + std::to_string(t));
        }
    }

  private:
    uint64_t u(int n) {  // big-endian unsigned of n bytes
        if (pos_ + n > b_.size()) throw std::runtime_error("truncated msgpack");
        uint64_t x = 0;
        for (int k = 0; k < n; k++) x = (x << 8) | b_[pos_++];
        return x;
    }
    static Value integer(int64_t x) { Value v; v.kind = Value::INT; v.i = x; return v; }
    Value bytes(Value::Kind kind, uint64_t n) {
        if (pos_ + n > b_.size()) throw std::runtime_error("truncated msgpack string");
        Value v;
        v.kind = kind;
        v.s.assign(reinterpret_cast<const char*>(b_.data()) + pos_, n);
        pos_ += n;
        return v;
    }
    Value array(uint64_t n) {
        Value v;
        v.kind = Value::ARRAY;
        for (uint64_t k = 0; k < n; k++) v.items.push_back(read());
        return v;
    }
    Value map(uint64_t n) {
        Value v;
        v.kind = Value::MAP;
        for (uint64_t k = 0; k < n; k++) {
            Value key = read();
            v.fields[key.s] = read();
        }
        return v;
    }
    const std::vector<uint8_t>& b_;
    std::size_t pos_ = 0;
};

struct Array {
    std::string dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
};

Array to_array(const Value& v) {
    Array a;
    a.dtype = v.fields.at("dtype").s;
    for (const Value& d : v.fields.at("shape").items) a.shape.push_back(d.i);
    const std::string& s = v.fields.at("data").s;
    a.data.assign(s.begin(), s.end());
    return a;
}

struct Tally {
    int cases = 0;
    int failures = 0;
};

void fail(Tally& t, const std::string& name, const std::string& what) {
    t.failures++;
    std::fprintf(stderr, "FAIL golden %s: %s\n", name.c_str(), what.c_str());
}

void run_resize(const std::string& name, const Value& doc, Tally& t) {
    const Array in = to_array(doc.fields.at("input"));
    const int height = static_cast<int>(doc.fields.at("height").i);
    const int width = static_cast<int>(doc.fields.at("width").i);
    const auto out_it = doc.fields.find("output");
    const std::size_t rank = in.shape.size();
    const bool gray = rank == 2;
    const int channels = gray ? 1 : static_cast<int>(in.shape[rank - 1]);
    const int h = static_cast<int>(in.shape[gray ? 0 : rank - 3]);
    const int w = static_cast<int>(in.shape[gray ? 1 : rank - 2]);
    int64_t count = 1;
    for (std::size_t k = 0; k + (gray ? 2 : 3) < rank; k++) count *= in.shape[k];
    const double ratio = std::max(static_cast<double>(w) / width, static_cast<double>(h) / height);
    const int rh = static_cast<int>(h / ratio);
    const int rw = static_cast<int>(w / ratio);
    const int top = std::max(0, static_cast<int>((height - rh) / 2.0));
    const int left = std::max(0, static_cast<int>((width - rw) / 2.0));
    if (out_it == doc.fields.end()) {
        // Python raised. A zero side must be refused by the C API too; a float image or
        // [h, w, 1] never reaches it (refused in Java by dtype and shape).
        if (in.dtype != "|u1" || channels == 1) return;
        std::vector<uint8_t> dst(static_cast<std::size_t>(height) * width * channels);
        const int rc = wp_resize_with_pad_u8(in.data.data(), static_cast<int64_t>(in.data.size()), 0, h, w, channels, rh,
                                             rw, top, left, height, width, dst.data(),
                                             static_cast<int64_t>(dst.size()), 0);
        if (rc != WP_EINVAL) fail(t, name, "status " + std::to_string(rc) + " where Python raised");
        return;
    }
    const Array want = to_array(out_it->second);
    if (!gray && h == height && w == width) {
        // Python returns its input object (Java too); no kernel runs.
        if (want.data != in.data) fail(t, name, "an unchanged case whose output differs from its input");
        return;
    }
    const int64_t in_bytes = static_cast<int64_t>(h) * w * channels;
    const int64_t frame = static_cast<int64_t>(height) * width * channels;
    for (int simd = 1; simd >= 0; simd--) {
        wp_set_simd_enabled(simd);
        std::vector<uint8_t> got(static_cast<std::size_t>(frame * count), 0xEE);
        for (int64_t i = 0; i < count; i++) {
            const int rc = wp_resize_with_pad_u8(in.data.data(), static_cast<int64_t>(in.data.size()), i * in_bytes, h,
                                                 w, channels, rh, rw, top, left, height, width, got.data(),
                                                 static_cast<int64_t>(got.size()), i * frame);
            if (rc != WP_OK) fail(t, name, "status " + std::to_string(rc));
        }
        if (got != want.data) {
            const auto diffs = std::count_if(got.begin(), got.end(), [&, k = std::size_t{0}](uint8_t g) mutable {
                return k < want.data.size() && g != want.data[k++];
            });
            fail(t, name, std::string(simd ? "SIMD" : "scalar") + " kernels: " + std::to_string(diffs) +
                              " bytes differ (sizes " + std::to_string(got.size()) + " / " +
                              std::to_string(want.data.size()) + ")");
        }
    }
    wp_set_simd_enabled(1);
}

void run_convert(const std::string& name, const Value& doc, Tally& t) {
    Array in = to_array(doc.fields.at("input"));
    const Array want = to_array(doc.fields.at("output"));
    if (in.dtype.size() < 3 || in.dtype[1] != 'f') {
        // Not floating: Python returns its input (Java returns the same object); nothing native.
        if (want.data != in.data) fail(t, name, "a pass-through case whose output differs from its input");
        return;
    }
    const int item = in.dtype[2] - '0';
    if (in.dtype[0] == '>') {  // the C API reads little-endian; Java swaps big-endian arrays
        for (std::size_t k = 0; k < in.data.size(); k += item) std::reverse(&in.data[k], &in.data[k] + item);
    }
    const int64_t n = static_cast<int64_t>(in.data.size()) / item;
    for (int simd = 1; simd >= 0; simd--) {
        wp_set_simd_enabled(simd);
        std::vector<uint8_t> got(static_cast<std::size_t>(n));
        const int rc = wp_float_to_u8(in.data.data(), static_cast<int64_t>(in.data.size()), item, n, got.data(), n);
        if (rc != WP_OK) fail(t, name, "status " + std::to_string(rc));
        if (got != want.data) fail(t, name, std::string(simd ? "SIMD" : "scalar") + " conversion differs");
    }
    wp_set_simd_enabled(1);
}

}  // namespace

int run_golden_cases(const std::string& dir) {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) {
        std::fprintf(stderr, "FAIL golden: cannot open %s\n", dir.c_str());
        return 1;
    }
    std::vector<std::string> files;
    while (const dirent* e = readdir(d)) {
        const std::string f = e->d_name;
        if (f.size() > 8 && f.compare(f.size() - 8, 8, ".msgpack") == 0) files.push_back(f);
    }
    closedir(d);
    std::sort(files.begin(), files.end());
    Tally t;
    for (const std::string& f : files) {
        std::ifstream in(dir + "/" + f, std::ios::binary);
        const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const std::string name = f.substr(0, f.size() - 8);
        try {
            const Value doc = Reader(bytes).read();
            if (doc.fields.count("height") == 0) {  // convert_to_uint8: {input, output}
                run_convert(name, doc, t);
            } else {
                run_resize(name, doc, t);
            }
            t.cases++;
        } catch (const std::exception& e) {
            fail(t, name, e.what());
        }
    }
    if (t.cases == 0) fail(t, dir, "no golden cases found");
    std::printf("golden: %d cases (%zu files), SIMD level %d and scalar, %d failures\n", t.cases, files.size(),
                wp_simd_level(), t.failures);
    return t.failures;
}
