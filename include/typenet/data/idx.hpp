#pragma once
// Readers for IDX files, the format of MNIST and Fashion-MNIST: a big-endian
// magic number (0x0000 0x08 <rank>: unsigned bytes, `rank` dimensions), the
// dimensions as big-endian uint32, then the values, row-major.
//
// The files are read plain or gzip-compressed; which one is decided by the
// gzip magic bytes (1f 8b), not by the file name, because the data sets are
// shipped as .gz and often unpacked (or renamed) by hand.
//
// Everything a header says is checked before it is believed: the magic number,
// non-zero dimensions, and that the file holds exactly the bytes the dimensions
// announce, no fewer (truncated download) and no more (wrong or concatenated
// file). The values are read in chunks and memory grows only as data actually
// arrives, so a corrupt 100-byte header claiming a billion images costs nothing.
//
// Needs zlib: link with -lz (CMake: ZLIB::ZLIB).
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <zlib.h>

namespace typenet::data {

/// A data file that cannot be used: missing, unreadable, malformed, or not what
/// the caller asked for. The message starts with the file's path.
struct data_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The contents of an idx3 file of unsigned bytes: `count` images of rows x cols
/// pixels, image after image, each row-major.
struct idx_images {
    std::size_t count = 0, rows = 0, cols = 0;
    std::vector<std::uint8_t> pixels;  ///< count * rows * cols values in 0..255
};

namespace detail {

inline std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
    return buf;
}

/// What an IDX magic number announces, for error messages ("idx1 of unsigned bytes").
inline std::string describe_idx_magic(std::uint32_t magic) {
    if ((magic >> 16) != 0) return "not an IDX file";
    const auto rank = magic & 0xFFu;
    std::string type;
    switch ((magic >> 8) & 0xFFu) {
        case 0x08:
            type = "unsigned bytes";
            break;
        case 0x09:
            type = "signed bytes";
            break;
        case 0x0B:
            type = "int16";
            break;
        case 0x0C:
            type = "int32";
            break;
        case 0x0D:
            type = "float32";
            break;
        case 0x0E:
            type = "float64";
            break;
        default:
            return "not an IDX file";
    }
    return "idx" + std::to_string(rank) + " of " + type;
}

/// A file's bytes, gunzipped on the fly when it starts with gzip's magic bytes.
class idx_byte_source {
public:
    explicit idx_byte_source(const std::filesystem::path& path) : path_(path) {
        std::error_code ec;
        const auto status = std::filesystem::status(path, ec);
        if (ec && ec != std::errc::no_such_file_or_directory)
            throw data_error(where() + "cannot access: " + ec.message());
        if (!std::filesystem::exists(status)) throw data_error(where() + "no such file");
        if (!std::filesystem::is_regular_file(status)) throw data_error(where() + "not a regular file");
        file_size_ = std::filesystem::file_size(path, ec);
        if (ec) throw data_error(where() + "cannot read its size: " + ec.message());

        plain_ = std::fopen(path.c_str(), "rb");
        if (!plain_) throw data_error(where() + "cannot open: " + std::strerror(errno));
        unsigned char start[2] = {0, 0};
        const std::size_t got = std::fread(start, 1, 2, plain_);
        compressed_ = got == 2 && start[0] == 0x1f && start[1] == 0x8b;
        if (compressed_) {
            std::fclose(plain_);
            plain_ = nullptr;
            gz_ = gzopen(path.c_str(), "rb");
            if (!gz_) throw data_error(where() + "cannot open: " + std::strerror(errno));
            // Fewer, larger reads of a big compressed file; a small one needs no 128 KiB buffer.
            gzbuffer(gz_, static_cast<unsigned>(std::clamp<std::uint64_t>(file_size_, 8192, 1u << 17)));
        } else {
            std::rewind(plain_);
        }
    }
    ~idx_byte_source() {
        if (plain_) std::fclose(plain_);
        if (gz_) gzclose(gz_);
    }
    idx_byte_source(const idx_byte_source&) = delete;
    idx_byte_source& operator=(const idx_byte_source&) = delete;

    /// Reads up to n bytes; fewer only at the end of the data. Throws on read or
    /// decompression errors, including a gzip stream that is cut short.
    std::size_t read(std::uint8_t* out, std::size_t n) {
        std::size_t total = 0;
        while (total < n) {
            std::size_t got = 0;
            if (gz_) {
                const auto want = static_cast<unsigned>(std::min<std::size_t>(n - total, 1u << 30));
                const int r = gzread(gz_, out + total, want);
                if (r < 0) throw data_error(where() + "cannot decompress: " + gz_message());
                got = static_cast<std::size_t>(r);
                if (got == 0) {
                    int err = Z_OK;
                    gzerror(gz_, &err);
                    // gzread reports a gzip stream that stops mid-way as a plain end of file.
                    if (err == Z_BUF_ERROR)
                        throw data_error(where() + "the gzip data is cut short after " +
                                         std::to_string(decompressed_ + total) +
                                         " decompressed bytes (truncated .gz file)");
                    if (err != Z_OK) throw data_error(where() + "cannot decompress: " + gz_message());
                }
            } else {
                got = std::fread(out + total, 1, n - total, plain_);
                if (got == 0 && std::ferror(plain_)) throw data_error(where() + "read error: " + std::strerror(errno));
            }
            if (got == 0) break;
            total += got;
        }
        decompressed_ += total;
        return total;
    }

    bool compressed() const noexcept { return compressed_; }

    /// The most bytes this source can yield. Deflate expands at most 1032:1, so a
    /// gzip file cannot hold more than that; a plain file holds its size.
    std::uint64_t max_bytes() const noexcept {
        if (!compressed_) return file_size_;
        constexpr std::uint64_t deflate_max_ratio = 1032;
        return file_size_ > std::numeric_limits<std::uint64_t>::max() / deflate_max_ratio
                   ? std::numeric_limits<std::uint64_t>::max()
                   : file_size_ * deflate_max_ratio;
    }

    std::string where() const { return path_.string() + ": "; }

private:
    std::string gz_message() {
        int err = Z_OK;
        const char* msg = gzerror(gz_, &err);
        return err == Z_ERRNO ? std::string(std::strerror(errno)) : std::string(msg ? msg : "unknown zlib error");
    }

    std::filesystem::path path_;
    std::FILE* plain_ = nullptr;
    gzFile gz_ = nullptr;
    bool compressed_ = false;
    std::uint64_t file_size_ = 0;
    std::uint64_t decompressed_ = 0;
};

/// The dimensions and values of an IDX file of unsigned bytes with `Rank` dimensions.
template <std::size_t Rank>
struct idx_contents {
    std::array<std::size_t, Rank> dims{};
    std::vector<std::uint8_t> values;
};

/// "60000 images of 28x28", "60000 labels"
template <std::size_t Rank>
std::string describe_idx_dims(const std::array<std::size_t, Rank>& dims, std::string_view items) {
    std::string s = std::to_string(dims[0]) + " " + std::string(items);
    for (std::size_t i = 1; i < Rank; ++i) {
        s += i == 1 ? " of " : "x";
        s += std::to_string(dims[i]);
    }
    return s;
}

/// Reads and validates an IDX file of unsigned bytes with `Rank` dimensions;
/// `what` names the expected contents in messages ("idx3 images of unsigned bytes").
template <std::size_t Rank>
idx_contents<Rank> read_idx(const std::filesystem::path& path, std::string_view items, std::string_view what) {
    constexpr std::uint32_t expected_magic = 0x0800u | static_cast<std::uint32_t>(Rank);
    constexpr std::size_t header_bytes = 4 + 4 * Rank;

    idx_byte_source source(path);
    const std::string where = source.where();
    const std::string decompressed = source.compressed() ? " (decompressed)" : "";

    std::array<std::uint8_t, header_bytes> header{};
    const std::size_t header_got = source.read(header.data(), header_bytes);
    auto big_endian32 = [&](std::size_t offset) {
        return std::uint32_t{header[offset]} << 24 | std::uint32_t{header[offset + 1]} << 16 |
               std::uint32_t{header[offset + 2]} << 8 | std::uint32_t{header[offset + 3]};
    };
    // The magic number first: a wrong file type is the likelier story than a short header.
    if (header_got >= 4) {
        const std::uint32_t magic = big_endian32(0);
        if (magic != expected_magic)
            throw data_error(where + "wrong magic number " + hex32(magic) + " (" + describe_idx_magic(magic) +
                             "), expected " + hex32(expected_magic) + " (" + std::string(what) + ")");
    }
    if (header_got < header_bytes)
        throw data_error(where +
                         (header_got == 0
                              ? std::string("the file is empty")
                              : "truncated: the file ends after " + std::to_string(header_got) + " bytes" +
                                    decompressed + ", inside its " + std::to_string(header_bytes) + "-byte header") +
                         "; expected " + std::string(what));

    idx_contents<Rank> out;
    for (std::size_t i = 0; i < Rank; ++i) out.dims[i] = big_endian32(4 + 4 * i);
    const std::string announced = describe_idx_dims(out.dims, items);
    std::uint64_t payload = 1;
    for (auto d : out.dims) {
        if (d == 0) throw data_error(where + "the header says " + announced + "; every dimension must be non-zero");
        // Three uint32 dimensions can overflow 64 bits; such a header is corrupt anyway.
        if (__builtin_mul_overflow(payload, std::uint64_t{d}, &payload))
            throw data_error(where + "the header says " + announced + ", more bytes than any file can hold");
    }

    auto truncated = [&](std::uint64_t have) {
        return data_error(where + "truncated: the header says " + announced + " (" + std::to_string(payload) +
                          " bytes after its " + std::to_string(header_bytes) + ") but the file ends after " +
                          std::to_string(header_bytes + have) + " bytes" + decompressed);
    };
    // A plain file's size is known: a header claiming more than it holds is refused
    // before anything is allocated or read.
    const std::uint64_t can_hold = source.max_bytes() > header_bytes ? source.max_bytes() - header_bytes : 0;
    if (!source.compressed() && payload > can_hold) throw truncated(can_hold);

    // A compressed file's size only bounds its contents (see max_bytes), so memory
    // follows the data that actually arrives: chunks that start small and double
    // up to 1 MiB, never beyond what the file can possibly hold.
    out.values.reserve(static_cast<std::size_t>(std::min<std::uint64_t>({payload, can_hold, std::uint64_t{1} << 20})));
    std::size_t have = 0;
    while (have < payload) {
        const std::size_t chunk = std::clamp<std::size_t>(have, 4096, std::size_t{1} << 20);
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(payload - have, chunk));
        out.values.resize(have + want);
        const std::size_t got = source.read(out.values.data() + have, want);
        have += got;
        if (got < want) throw truncated(have);
    }

    std::uint64_t extra = 0;
    std::array<std::uint8_t, 4096> rest;
    for (std::size_t got; (got = source.read(rest.data(), rest.size())) > 0;) extra += got;
    if (extra > 0)
        throw data_error(where + "trailing data: " + std::to_string(extra) + " bytes" + decompressed + " after the " +
                         std::to_string(header_bytes + payload) + " that its header accounts for (" + announced + ")");
    return out;
}

}  // namespace detail

/// Reads an idx3 file of unsigned-byte images (magic 0x00000803), plain or gzipped.
/// Throws data_error naming the path and the problem.
inline idx_images read_idx_images(const std::filesystem::path& path) {
    auto c = detail::read_idx<3>(path, "images", "idx3 images of unsigned bytes");
    return idx_images{c.dims[0], c.dims[1], c.dims[2], std::move(c.values)};
}

/// Reads an idx1 file of unsigned-byte labels (magic 0x00000801), plain or gzipped.
/// Throws data_error naming the path and the problem.
inline std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& path) {
    return detail::read_idx<1>(path, "labels", "idx1 labels of unsigned bytes").values;
}

}  // namespace typenet::data
