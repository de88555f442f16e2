#pragma once
// Whole-file writes that a crash cannot tear, and whole-file reads, for typenet's
// binary files (weight files, io/weights.hpp; checkpoints, train/checkpoint.hpp).
// Both formats are decoded from memory, after the whole file has been read, so
// that nothing is changed before everything has been checked.
//
// Problems are thrown as the caller's Error type (constructible from std::string),
// with messages that start with the file's path, so that each format reports in
// its own type.
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace typenet::detail {

/// Removes a temporary file unless the write went through.
struct temporary_file_guard {
    std::filesystem::path path;
    bool keep = false;
    ~temporary_file_guard() {
        if (!keep) ::unlink(path.c_str());
    }
};

/// A number for the next temporary file name. One counter for the process, not one
/// per Error type, so that writes reporting different errors never try one name.
inline unsigned next_temporary_file_number() {
    static std::atomic<unsigned> counter{0};
    return counter++;
}

/// Writes `bytes` to `path` so that a crash or a full disk leaves either the old
/// file or the complete new one: write a temporary file in the same directory
/// (rename is atomic only within one file system), fsync it, rename it over the
/// target, then fsync the directory so that the rename itself is durable.
template <class Error>
void write_file_atomically(const std::filesystem::path& path, std::span<const unsigned char> bytes) {
    const std::string where = path.string() + ": ";
    std::filesystem::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        throw Error(where + "cannot save: the directory " + dir.string() +
                    (std::filesystem::exists(dir, ec) ? " is not a directory" : " does not exist"));

    // Unique per process and per call, so that concurrent saves never share a temporary.
    // O_EXCL: never write into a file that someone else created.
    int fd = -1;
    std::filesystem::path temp_path;
    for (int attempt = 0; fd < 0; ++attempt) {
        temp_path = path;
        temp_path += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(next_temporary_file_number());
        fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && (errno != EEXIST || attempt == 100))
            throw Error(where + "cannot create the temporary file " + temp_path.string() + ": " + std::strerror(errno));
    }
    temporary_file_guard temp{temp_path};
    auto fail = [&](const char* doing) {
        const int error = errno;
        if (fd >= 0) ::close(fd);
        throw Error(where + doing + " " + temp.path.string() + ": " + std::strerror(error));
    };
    for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) fail("cannot flush");
    const int closed = ::close(fd);
    fd = -1;
    if (closed != 0) fail("cannot close");

    std::filesystem::rename(temp.path, path, ec);
    if (ec) throw Error(where + "cannot replace it with " + temp.path.string() + ": " + ec.message());
    temp.keep = true;

    // Best effort: the file is complete and in place either way; only whether the
    // rename survives a power cut depends on this.
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
}

/// The file's bytes. Missing files, directories and short reads are each reported
/// as such, rather than read as an empty or truncated file.
template <class Error>
std::vector<unsigned char> read_whole_file(const std::filesystem::path& path) {
    const std::string where = path.string() + ": ";
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) throw Error(where + "cannot access: " + ec.message());
    if (!std::filesystem::exists(status)) throw Error(where + "no such file");
    if (!std::filesystem::is_regular_file(status)) throw Error(where + "not a regular file");
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(where + "cannot read its size: " + ec.message());
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(where + "cannot open: " + std::strerror(errno));
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (static_cast<std::uintmax_t>(in.gcount()) != size)
        throw Error(where + "read only " + std::to_string(in.gcount()) + " of its " + std::to_string(size) + " bytes");
    return bytes;
}

}  // namespace typenet::detail
