// libjpeg-turbo's own floor for one 4-camera step (q90 encode + decode of four 224x224 RGB
// images), timed in one C++ loop beside our wp_jpeg_* functions, so the cost of the JNI binding
// and the Java side can be read as a ratio against something measured on the same machine in
// the same minute (scripts/bench_image jpeg runs it before and after the Java table).
//   jpeg_floor [rounds] [steps] [cameras.raw]
// cameras.raw: 4 x 224 x 224 x 3 bytes (JpegBenchTable --write-cameras writes the Java table's
// own cameras); without it a gradient scene with a little noise stands in.
//
// Three ways, each the same settings as ours (4:2:0, IJG tables at q90, accurate integer DCT,
// fancy upsampling, output into a caller's buffer):
//   fresh:  libjpeg's API alone, a new compress/decompress struct per image;
//   reused: libjpeg's API alone, one struct of each kind for the whole run;
//   wp_jpeg: our C functions, as JpegNative calls them (bands of 64 rows).
#include <algorithm>
#include <chrono>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>

#include "webpolicy_native.h"

namespace {

constexpr int kCameras = 4;
constexpr int kSide = 224;
constexpr int kQuality = 90;
constexpr std::size_t kPixels = static_cast<std::size_t>(kSide) * kSide * 3;

struct Errors {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
};

[[noreturn]] void fail(j_common_ptr cinfo) {
    std::longjmp(reinterpret_cast<Errors*>(cinfo->err)->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
    if (level < 0) fail(cinfo);
}

void quiet(j_common_ptr) {}
void no_format(j_common_ptr, char* buffer) { buffer[0] = '\0'; }
void no_reset(j_common_ptr) {}

void init_errors(Errors* e) {
    std::memset(e, 0, sizeof *e);
    e->pub.error_exit = fail;
    e->pub.emit_message = on_message;
    e->pub.output_message = quiet;
    e->pub.format_message = no_format;
    e->pub.reset_error_mgr = no_reset;
}

struct Sink {
    jpeg_destination_mgr pub;
};
void sink_noop(j_compress_ptr) {}
boolean sink_full(j_compress_ptr cinfo) {
    ERREXIT(cinfo, JERR_BUFFER_SIZE);
    return FALSE;
}

struct Source {
    jpeg_source_mgr pub;
};
void source_noop(j_decompress_ptr) {}
boolean source_more(j_decompress_ptr cinfo) {
    ERREXIT(cinfo, JERR_INPUT_EOF);
    return FALSE;
}
void source_skip(j_decompress_ptr cinfo, long n) {
    if (n <= 0) return;
    if (static_cast<unsigned long>(n) > cinfo->src->bytes_in_buffer) ERREXIT(cinfo, JERR_INPUT_EOF);
    cinfo->src->next_input_byte += n;
    cinfo->src->bytes_in_buffer -= static_cast<size_t>(n);
}

// One compress and one decompress struct; `fresh` makes them again for every image.
struct Codec {
    jpeg_compress_struct c;
    jpeg_decompress_struct d;
    Errors ce, de;
    Sink sink;
    Source source;
    bool c_made = false, d_made = false, fresh = false;
};

std::size_t encode(Codec* k, const uint8_t* px, uint8_t* out, std::size_t cap) {
    if (setjmp(k->ce.jump) != 0) {
        std::fprintf(stderr, "encode failed\n");
        std::exit(2);
    }
    if (!k->c_made) {
        init_errors(&k->ce);
        k->c.err = &k->ce.pub;
        jpeg_create_compress(&k->c);
        k->c_made = true;
        k->sink.pub.init_destination = sink_noop;
        k->sink.pub.empty_output_buffer = sink_full;
        k->sink.pub.term_destination = sink_noop;
        k->c.dest = &k->sink.pub;
        k->c.image_width = kSide;
        k->c.image_height = kSide;
        k->c.input_components = 3;
        k->c.in_color_space = JCS_RGB;
        jpeg_set_defaults(&k->c);
        jpeg_set_quality(&k->c, kQuality, TRUE);
        k->c.dct_method = JDCT_ISLOW;
    }
    k->sink.pub.next_output_byte = out;
    k->sink.pub.free_in_buffer = cap;
    jpeg_start_compress(&k->c, TRUE);
    JSAMPROW rows[16];
    while (k->c.next_scanline < k->c.image_height) {
        const JDIMENSION first = k->c.next_scanline;
        const JDIMENSION n = std::min<JDIMENSION>(16, k->c.image_height - first);
        for (JDIMENSION i = 0; i < n; i++) rows[i] = const_cast<JSAMPROW>(px + (first + i) * kSide * 3);
        jpeg_write_scanlines(&k->c, rows, n);
    }
    jpeg_finish_compress(&k->c);
    const std::size_t n = cap - k->sink.pub.free_in_buffer;
    if (k->fresh) {
        jpeg_destroy_compress(&k->c);
        k->c_made = false;
    }
    return n;
}

void decode(Codec* k, const uint8_t* data, std::size_t len, uint8_t* px) {
    if (setjmp(k->de.jump) != 0) {
        std::fprintf(stderr, "decode failed\n");
        std::exit(2);
    }
    if (!k->d_made) {
        init_errors(&k->de);
        k->d.err = &k->de.pub;
        jpeg_create_decompress(&k->d);
        k->d_made = true;
        k->source.pub.init_source = source_noop;
        k->source.pub.fill_input_buffer = source_more;
        k->source.pub.skip_input_data = source_skip;
        k->source.pub.resync_to_restart = jpeg_resync_to_restart;
        k->source.pub.term_source = source_noop;
        k->d.src = &k->source.pub;
    }
    k->source.pub.next_input_byte = data;
    k->source.pub.bytes_in_buffer = len;
    jpeg_read_header(&k->d, TRUE);
    k->d.out_color_space = JCS_RGB;
    k->d.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&k->d);
    JSAMPROW rows[16];
    while (k->d.output_scanline < k->d.output_height) {
        const JDIMENSION first = k->d.output_scanline;
        const JDIMENSION n = std::min<JDIMENSION>(16, k->d.output_height - first);
        for (JDIMENSION i = 0; i < n; i++) rows[i] = px + (first + i) * kSide * 3;
        jpeg_read_scanlines(&k->d, rows, n);
    }
    jpeg_finish_decompress(&k->d);
    if (k->fresh) {
        jpeg_destroy_decompress(&k->d);
        k->d_made = false;
    }
}

std::size_t wp_encode(const uint8_t* px, uint8_t* out, std::size_t cap) {
    const int64_t n = wp_jpeg_encode_u8(px, static_cast<int64_t>(kPixels), 0, kSide, kSide, 3, kQuality, out,
                                        static_cast<int64_t>(cap));
    if (n <= 0) {
        std::fprintf(stderr, "wp_jpeg_encode_u8: %lld\n", static_cast<long long>(n));
        std::exit(2);
    }
    return static_cast<std::size_t>(n);
}

void wp_decode(const uint8_t* data, std::size_t len, uint8_t* px) {
    const int64_t d = wp_jpeg_decoder_new();
    int status = wp_jpeg_decoder_start(d, data, static_cast<int64_t>(len), kSide, kSide, 3);
    while (status >= 0 && status < kSide) {
        status = wp_jpeg_decoder_read(d, data, static_cast<int64_t>(len), 64, px, static_cast<int64_t>(kPixels));
    }
    wp_jpeg_decoder_free(d);
    if (status < 0) {
        std::fprintf(stderr, "wp_jpeg decode: %d\n", status);
        std::exit(2);
    }
}

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The calling thread's CPU time: what other processes' load adds least to.
double cpu_ms() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

struct Way {
    const char* name;
    int kind;  // 0 fresh, 1 reused, 2 wp_jpeg
    Codec codec;
    std::vector<double> enc, dec, both, cpu;
};

void step(Way* way, const std::vector<uint8_t>& cams, std::vector<std::vector<uint8_t>>& jpegs,
          std::vector<std::size_t>& lens, std::vector<uint8_t>& back, bool record) {
    const double c0 = cpu_ms();
    const double t0 = now_ms();
    for (int i = 0; i < kCameras; i++) {
        const uint8_t* px = cams.data() + i * kPixels;
        lens[i] = way->kind == 2 ? wp_encode(px, jpegs[i].data(), jpegs[i].size())
                                 : encode(&way->codec, px, jpegs[i].data(), jpegs[i].size());
    }
    const double t1 = now_ms();
    for (int i = 0; i < kCameras; i++) {
        uint8_t* px = back.data() + i * kPixels;
        if (way->kind == 2) {
            wp_decode(jpegs[i].data(), lens[i], px);
        } else {
            decode(&way->codec, jpegs[i].data(), lens[i], px);
        }
    }
    const double t2 = now_ms();
    const double c2 = cpu_ms();
    if (record) {
        way->cpu.push_back(c2 - c0);
        way->enc.push_back(t1 - t0);
        way->dec.push_back(t2 - t1);
        way->both.push_back(t2 - t0);
    }
}

double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    if (q == 0) return v.front();
    std::size_t i = static_cast<std::size_t>(q * static_cast<double>(v.size()) + 0.999999);
    return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 10;
    const int steps = argc > 2 ? std::atoi(argv[2]) : 200;
    std::vector<uint8_t> cams(kCameras * kPixels);
    if (argc > 3) {
        std::FILE* f = std::fopen(argv[3], "rb");
        if (f == nullptr || std::fread(cams.data(), 1, cams.size(), f) != cams.size()) {
            std::fprintf(stderr, "cannot read %zu bytes of cameras from %s\n", cams.size(), argv[3]);
            return 2;
        }
        std::fclose(f);
    } else {
        std::srand(42);
        for (int i = 0; i < kCameras; i++) {
            for (int y = 0; y < kSide; y++) {
                for (int x = 0; x < kSide; x++) {
                    for (int k = 0; k < 3; k++) {
                        const int v = (x + i * 30) * 200 / kSide + y * 40 / kSide + 10 * k + std::rand() % 5;
                        cams[i * kPixels + (static_cast<std::size_t>(y) * kSide + x) * 3 + k] =
                            static_cast<uint8_t>(std::min(255, v));
                    }
                }
            }
        }
    }
    if (rounds < 1 || steps < 1) {
        std::fprintf(stderr, "usage: jpeg_floor [rounds >= 1] [steps >= 1] [cameras.raw]\n");
        return 2;
    }
    std::vector<std::vector<uint8_t>> jpegs(kCameras, std::vector<uint8_t>(kPixels + 65536));
    std::vector<std::size_t> lens(kCameras);
    std::vector<uint8_t> back(kCameras * kPixels);
    Way ways[3] = {{"libjpeg-turbo alone, fresh structs", 0, {}, {}, {}, {}, {}},
                   {"libjpeg-turbo alone, reused structs", 1, {}, {}, {}, {}, {}},
                   {"wp_jpeg_* (our C layer, no JVM)", 2, {}, {}, {}, {}, {}}};
    ways[0].codec.fresh = true;
    for (Way& w : ways) {
        for (int i = 0; i < 200; i++) step(&w, cams, jpegs, lens, back, false);
    }
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 3; k++) {
            Way* w = &ways[(r + k) % 3];
            for (int s = 0; s < steps; s++) step(w, cams, jpegs, lens, back, true);
        }
    }
    std::size_t bytes = 0;
    for (std::size_t n : lens) bytes += n;
    std::printf("C++ floor, one thread, %d rounds x %d steps, rotating; %zu bytes per step\n", rounds, steps, bytes);
    std::printf("| %-35s | %-22s | %-22s | %-22s | %-22s |\n", "libjpeg-turbo in C++", "encode best/p50/p99",
                "decode best/p50/p99", "both best/p50/p99", "thread CPU best/p50/p99");
    for (Way& w : ways) {
        std::printf("| %-35s | %6.3f %6.3f %6.3f | %6.3f %6.3f %6.3f | %6.3f %6.3f %6.3f | %6.3f %6.3f %6.3f |\n", w.name,
                    quantile(w.enc, 0), quantile(w.enc, 0.5), quantile(w.enc, 0.99), quantile(w.dec, 0),
                    quantile(w.dec, 0.5), quantile(w.dec, 0.99), quantile(w.both, 0), quantile(w.both, 0.5),
                    quantile(w.both, 0.99), quantile(w.cpu, 0), quantile(w.cpu, 0.5), quantile(w.cpu, 0.99));
    }
    for (Way& w : ways) {
        if (w.codec.c_made) jpeg_destroy_compress(&w.codec.c);
        if (w.codec.d_made) jpeg_destroy_decompress(&w.codec.d);
    }
    return 0;
}
