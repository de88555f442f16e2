// Weight files: bit-exact round trips, the documented layout, atomic saves, and
// loads that refuse foreign, truncated or corrupted files with a message while
// leaving the model exactly as it was.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <typenet/io/weights.hpp>
#include <typenet/typenet.hpp>

#include "counting_new.hpp"
#include "support.hpp"

using test_support::largest_allocation;

using namespace typenet;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

using test_support::temporary_directory;

namespace {

using small_net = sequential<input<4>, dense<8>, relu, dense<3>>;
using other_net = sequential<input<4>, dense<3>>;
// The same tensors as small_net; only the activation differs.
using same_tensors_net = sequential<input<4>, dense<8>, tanh_act, dense<3>>;
using conv_net = sequential<input<2, 6, 6>, conv2d<3, 3>, relu, max_pool<2>, flatten, dense<4>>;

using bytes = std::vector<unsigned char>;

bytes read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const fs::path& p, const bytes& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    REQUIRE(out.good());
}

/// FNV-1a 64, written here again from its definition so that the test checks the
/// documented format rather than the library against itself.
std::uint64_t fnv1a(const unsigned char* p, std::size_t n) {
    std::uint64_t h = 14695981039346656037ULL;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}
std::uint64_t fnv1a(const std::string& s) { return fnv1a(reinterpret_cast<const unsigned char*>(s.data()), s.size()); }

std::uint64_t get_u64(const bytes& b, std::size_t at) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
    return v;
}
std::uint32_t get_u32(const bytes& b, std::size_t at) {
    return static_cast<std::uint32_t>(get_u64(b, at) & 0xFFFFFFFF);
}
void put_u64(bytes& b, std::size_t at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) b[at + i] = static_cast<unsigned char>(v >> (8 * i));
}
/// Rewrites the trailing checksum, to get past it to the checks behind it.
void reseal(bytes& b) { put_u64(b, b.size() - 8, fnv1a(b.data(), b.size() - 8)); }

/// The message of the weights_error that f throws (the test fails if it throws nothing).
template <class F>
std::string thrown_message(F&& f) {
    try {
        f();
    } catch (const weights_error& e) {
        return e.what();
    }
    FAIL("expected a weights_error, none was thrown");
    return {};
}

template <class Model>
bool same_bits(const Model& a, const Model& b) {
    const auto pa = a.parameters(), pb = b.parameters();
    return pa.size() == pb.size() && std::memcmp(pa.data(), pb.data(), pa.size_bytes()) == 0;
}

}  // namespace

TEMPLATE_TEST_CASE("save then load gives the parameters back bit for bit", "[weights]", float, double) {
    temporary_directory dir;
    model<small_net, TestType> saved(1);
    // Values a text format or a careless conversion would not keep.
    auto p = saved.parameters();
    p[0] = -TestType(0);
    p[1] = std::numeric_limits<TestType>::denorm_min();
    p[2] = std::numeric_limits<TestType>::infinity();
    p[3] = std::numeric_limits<TestType>::quiet_NaN();
    p[4] = std::numeric_limits<TestType>::max();
    p[small_net::parameter_count - 1] = TestType(1) / TestType(3);
    save(saved, dir / "small.tnw");

    model<small_net, TestType> loaded(2);
    REQUIRE_FALSE(same_bits(loaded, saved));
    load(loaded, dir / "small.tnw");
    CHECK(same_bits(loaded, saved));

    model<conv_net, TestType> conv(3), conv_loaded(4);
    save(conv, dir / "conv.tnw");
    load(conv_loaded, dir / "conv.tnw");
    CHECK(conv_loaded == conv);
}

TEST_CASE("the file has the documented layout", "[weights]") {
    temporary_directory dir;
    model<small_net> m(5);
    save(m, dir / "m.tnw");
    const bytes b = read_bytes(dir / "m.tnw");
    const std::string name = "sequential<input<4>, dense<8>, relu, dense<3>>";
    REQUIRE(type_name<small_net>() == name);

    // magic, version, element type, fingerprint, name, parameter count, tensor count
    REQUIRE(b.size() > 48 + name.size());
    CHECK(std::memcmp(b.data(), "TYPENET\0", 8) == 0);
    CHECK(get_u32(b, 8) == 1);
    CHECK(get_u32(b, 12) == 4);
    CHECK(get_u64(b, 16) == fnv1a(name));
    CHECK(get_u64(b, 24) == name.size());
    CHECK(std::string(b.begin() + 32, b.begin() + 32 + static_cast<std::ptrdiff_t>(name.size())) == name);
    std::size_t at = 32 + name.size();
    CHECK(get_u64(b, at) == small_net::parameter_count);
    CHECK(get_u64(b, at + 8) == 4);  // weights and bias of two dense layers
    at += 16;

    // the tensors, in for_each_tensor order, with their values
    std::size_t tensors = 0;
    std::as_const(m).for_each_tensor([&](const tensor_ref<const float>& t) {
        INFO("tensor " << tensors);
        CHECK(get_u64(b, at) == t.layer_index);
        CHECK(get_u64(b, at + 8) == t.name.size());
        CHECK(std::string(b.begin() + static_cast<std::ptrdiff_t>(at + 16),
                          b.begin() + static_cast<std::ptrdiff_t>(at + 16 + t.name.size())) == t.name);
        at += 16 + t.name.size();
        CHECK(get_u64(b, at) == t.dims.size());
        at += 8;
        for (auto d : t.dims) {
            CHECK(get_u64(b, at) == d);
            at += 8;
        }
        for (float v : t.values) {
            CHECK(get_u32(b, at) == std::bit_cast<std::uint32_t>(v));
            at += 4;
        }
        ++tensors;
    });
    CHECK(tensors == 4);
    REQUIRE(at + 8 == b.size());
    CHECK(get_u64(b, at) == fnv1a(b.data(), at));
}

TEST_CASE("a file of another architecture is refused, naming both, and the model is unchanged", "[weights]") {
    temporary_directory dir;
    model<small_net> small(1);
    save(small, dir / "small.tnw");

    model<other_net> other(2);
    const auto other_before = other;
    CHECK_THAT(thrown_message([&] { load(other, dir / "small.tnw"); }),
               Contains((dir / "small.tnw").string() +
                        ": this file holds sequential<input<4>, dense<8>, relu, dense<3>> but the model is "
                        "sequential<input<4>, dense<3>>"));
    CHECK(other == other_before);

    // Tensors of the same names and shapes do not make it the same network.
    model<same_tensors_net> same_tensors(3);
    const auto same_tensors_before = same_tensors;
    CHECK_THAT(thrown_message([&] { load(same_tensors, dir / "small.tnw"); }),
               Contains("but the model is sequential<input<4>, dense<8>, tanh_act, dense<3>>"));
    CHECK(same_tensors == same_tensors_before);
}

TEST_CASE("a truncated file is refused wherever it is cut, and the model is unchanged", "[weights]") {
    temporary_directory dir;
    model<small_net> saved(1);
    save(saved, dir / "m.tnw");
    const bytes whole = read_bytes(dir / "m.tnw");

    model<small_net> m(2);
    const auto before = m;
    for (std::size_t length = 1; length < whole.size(); ++length) {
        INFO("cut at " << length << " of " << whole.size());
        write_bytes(dir / "cut.tnw", bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(length)));
        const auto message = thrown_message([&] { load(m, dir / "cut.tnw"); });
        REQUIRE_THAT(message, Contains((dir / "cut.tnw").string() + ": truncated (ends at byte " +
                                       std::to_string(length) + "; "));
        REQUIRE(m == before);
    }
    // Cut inside the values of the last tensor, the message says what is missing.
    write_bytes(dir / "cut.tnw", bytes(whole.begin(), whole.end() - 10));
    CHECK_THAT(thrown_message([&] { load(m, dir / "cut.tnw"); }),
               Contains("; the values of tensor 3 'bias' of layer 2 [3] would end at byte " +
                        std::to_string(whole.size() - 8)));
    write_bytes(dir / "cut.tnw", {});
    CHECK_THAT(thrown_message([&] { load(m, dir / "cut.tnw"); }), Contains("the file is empty"));
    CHECK(m == before);
}

TEST_CASE("a corrupted byte anywhere is detected, and the model is unchanged", "[weights]") {
    temporary_directory dir;
    model<small_net> saved(1);
    save(saved, dir / "m.tnw");
    const bytes whole = read_bytes(dir / "m.tnw");

    model<small_net> m(2);
    const auto before = m;
    bytes middle = whole;
    middle[whole.size() / 2] ^= 0x10;
    write_bytes(dir / "bad.tnw", middle);
    CHECK_THAT(thrown_message([&] { load(m, dir / "bad.tnw"); }),
               Contains((dir / "bad.tnw").string() + ": checksum mismatch: the file is corrupted"));
    CHECK(m == before);

    // Every position, two kinds of damage: not one slips through as a successful load.
    for (std::size_t i = 0; i < whole.size(); ++i)
        for (unsigned char flip : {0x01, 0xFF}) {
            INFO("byte " << i << " xor " << int(flip));
            bytes damaged = whole;
            damaged[i] ^= flip;
            write_bytes(dir / "bad.tnw", damaged);
            REQUIRE_THROWS_AS(load(m, dir / "bad.tnw"), weights_error);
            REQUIRE(m == before);
        }

    bytes appended = whole;
    appended.push_back(0);
    write_bytes(dir / "bad.tnw", appended);
    CHECK_THAT(thrown_message([&] { load(m, dir / "bad.tnw"); }), Contains("1 unexpected bytes after the checksum"));
}

TEST_CASE("checks behind the checksum: version, fingerprint and tensor layout", "[weights]") {
    temporary_directory dir;
    model<small_net> saved(1);
    save(saved, dir / "m.tnw");
    const bytes whole = read_bytes(dir / "m.tnw");
    model<small_net> m(2);
    const auto before = m;

    bytes version = whole;
    version[8] = 2;
    reseal(version);
    write_bytes(dir / "v2.tnw", version);
    CHECK_THAT(thrown_message([&] { load(m, dir / "v2.tnw"); }),
               Contains("v2.tnw: format version 2; this typenet reads version 1"));

    bytes fingerprint = whole;
    fingerprint[16] ^= 1;
    reseal(fingerprint);
    write_bytes(dir / "fp.tnw", fingerprint);
    CHECK_THAT(thrown_message([&] { load(m, dir / "fp.tnw"); }),
               Contains("fingerprint does not match the architecture name"));

    // The first tensor's dims [4, 8] stored as [8, 4]: as many values, the wrong shape.
    const std::size_t dims_at = 32 + type_name<small_net>().size() + 16 + 8 + 8 + 7 + 8;
    REQUIRE(get_u64(whole, dims_at) == 4);
    REQUIRE(get_u64(whole, dims_at + 8) == 8);
    bytes transposed = whole;
    put_u64(transposed, dims_at, 8);
    put_u64(transposed, dims_at + 8, 4);
    reseal(transposed);
    write_bytes(dir / "t.tnw", transposed);
    CHECK_THAT(thrown_message([&] { load(m, dir / "t.tnw"); }),
               Contains("tensor 0 is 'weights' of layer 0 [8, 4] in the file but 'weights' of layer 0 [4, 8] in the "
                        "model"));
    CHECK(m == before);
}

TEST_CASE("a file that is not a weight file is refused by its magic bytes", "[weights]") {
    temporary_directory dir;
    model<small_net> m(2);
    const auto before = m;
    write_bytes(dir / "picture.png", {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'});
    CHECK_THAT(thrown_message([&] { load(m, dir / "picture.png"); }),
               Contains((dir / "picture.png").string() + ": not a typenet weight file (wrong magic)"));
    write_bytes(dir / "short", {'T', 'Y', 'P', 'O'});
    CHECK_THAT(thrown_message([&] { load(m, dir / "short"); }), Contains("not a typenet weight file (wrong magic)"));
    CHECK_THAT(thrown_message([&] { load(m, dir / "absent.tnw"); }),
               Contains((dir / "absent.tnw").string() + ": no such file"));
    CHECK(m == before);
}

TEST_CASE("the element type must match: no silent float/double conversion", "[weights]") {
    temporary_directory dir;
    save(model<small_net, double>(1), dir / "double.tnw");
    save(model<small_net, float>(1), dir / "float.tnw");

    model<small_net, float> f(2);
    const auto f_before = f;
    CHECK_THAT(thrown_message([&] { load(f, dir / "double.tnw"); }),
               Contains((dir / "double.tnw").string() + ": element type double, model uses float"));
    CHECK(f == f_before);

    model<small_net, double> d(2);
    const auto d_before = d;
    CHECK_THAT(thrown_message([&] { load(d, dir / "float.tnw"); }), Contains("element type float, model uses double"));
    CHECK(d == d_before);
}

TEST_CASE("save replaces the file atomically and leaves no temporary file behind", "[weights]") {
    temporary_directory dir;
    model<small_net> first(1), second(2), loaded(3);
    save(first, dir / "m.tnw");
    CHECK(dir.entries() == std::vector<std::string>{"m.tnw"});
    save(second, dir / "m.tnw");  // over an existing file
    CHECK(dir.entries() == std::vector<std::string>{"m.tnw"});
    load(loaded, dir / "m.tnw");
    CHECK(loaded == second);
}

TEST_CASE("a save that cannot be done throws, names the path and leaves nothing behind", "[weights]") {
    temporary_directory dir;
    model<small_net> m(1);

    const auto missing = dir / "no" / "such" / "dir" / "m.tnw";
    CHECK_THAT(thrown_message([&] { save(m, missing); }),
               Contains(missing.string() + ": cannot save: the directory " + (dir / "no" / "such" / "dir").string() +
                        " does not exist"));
    CHECK(dir.entries().empty());

    // A directory where the file should go: the rename fails after the temporary was written.
    fs::create_directories(dir / "m.tnw" / "inside");
    CHECK_THAT(thrown_message([&] { save(m, dir / "m.tnw"); }),
               Contains((dir / "m.tnw").string() + ": cannot replace it with " + (dir / "m.tnw").string() + ".tmp-"));
    CHECK(dir.entries() == std::vector<std::string>{"m.tnw"});
    CHECK(fs::is_directory(dir / "m.tnw" / "inside"));
}

TEST_CASE("huge counts and dimensions in a tiny weight file are refused before anything is allocated for them",
          "[weights]") {
    temporary_directory dir;
    model<small_net> m(2);
    const auto before = m;
    const std::string architecture = type_name<small_net>();
    auto header = [&](std::uint64_t parameters, std::uint64_t tensors) {
        detail::binary_writer w;
        w.raw(detail::weights_magic);
        w.u32(1);
        w.u32(4);
        w.u64(fnv1a(architecture));
        w.str(architecture);
        w.u64(parameters);
        w.u64(tensors);
        return w;
    };
    // 2^62 parameters in 2^61 tensors, the first claiming 2^20 x 2^20 x 2^20 values: about 100 bytes.
    auto w = header(std::uint64_t{1} << 62, std::uint64_t{1} << 61);
    w.u64(0);
    w.str("weights");
    w.u64(3);
    for (int i = 0; i < 3; ++i) w.u64(std::uint64_t{1} << 20);
    write_bytes(dir / "liar.tnw", w.bytes());
    // What a load may allocate: its own bookkeeping, far below what the header claims.
    constexpr std::size_t bound = std::size_t{1} << 20;
    largest_allocation = 0;
    CHECK_THAT(
        thrown_message([&] { load(m, dir / "liar.tnw"); }),
        Contains("truncated") && Contains("the values of tensor 0 'weights' of layer 0 [1048576, 1048576, 1048576]"));
    // Dimensions whose product overflows 64 bits.
    auto o = header(100, 1);
    o.u64(0);
    o.str("weights");
    o.u64(4);
    for (int i = 0; i < 4; ++i) o.u64(std::uint64_t{1} << 40);
    CHECK(largest_allocation.load() < bound);
    write_bytes(dir / "overflow.tnw", o.bytes());
    largest_allocation = 0;
    CHECK_THAT(thrown_message([&] { load(m, dir / "overflow.tnw"); }),
               Contains("corrupted: the tensors up to tensor 0 hold more values"));
    // A name claiming a gigabyte.
    auto n = header(10, 1);
    n.u64(0);
    n.u64(std::uint64_t{1} << 30);
    CHECK(largest_allocation.load() < bound);
    write_bytes(dir / "name.tnw", n.bytes());
    largest_allocation = 0;
    CHECK_THAT(thrown_message([&] { load(m, dir / "name.tnw"); }),
               Contains("bytes long, more than any typenet writes"));
    CHECK(largest_allocation.load() < bound);
    CHECK(m == before);
}
