#pragma once
// Training checkpoints: everything fit() needs to continue a run as if it had
// never stopped, so that a resumed run ends with the same parameters and the same
// batch_norm running statistics, bit for bit, as an uninterrupted one (same thread
// count: see trainer.hpp). Besides the parameters and the optimiser's state that
// means every source of change in a training step: the shuffling generator, the
// dropout streams (one per thread), the augmentation stream and the model's
// non-trainable state (batch_norm running statistics), which moves in every
// training forward pass without being a parameter.
//
// A checkpoint is written with io/atomic_file.hpp's atomic write (temporary file
// in the same directory, fsync, rename, fsync of the directory): a crash at any
// moment leaves the previous checkpoint or the new one, never a mix. Its fields
// are written and read with io/binary_codec.hpp, as a weight file's are; the
// format itself, its limits and its checks are this header's own.
//
// File format, version 3; integers little-endian, strings and arrays as a uint64
// count then the items, doubles as their IEEE bits (uint64). A "generator" is 44
// bytes: its 4 state words (uint64), spare normal (double), has-spare (uint32).
//
//   8      magic "TNCHKPT\0"
//   4      format version (uint32) = 3
//   4      element type (uint32): 4 = float, 8 = double
//   8+n    architecture name (string), type_name<Arch>(); 8 fingerprint (uint64, FNV-1a of it)
//   8+n    optimiser name (string), type_name<Optimizer>()
//   8 x 10 the run's settings (uint64): samples in the data set, validation
//          samples, batch size, threads, epochs, seed, shuffle, augmentation's
//          horizontal flip, max shift and cutout -- a resume under other settings could
//          not reproduce the run and is refused
//   8      epoch (uint64): the 1-based epoch to run or continue
//   8      position (uint64): samples of that epoch already trained on; 0 means
//          the epoch has not started (its shuffle is still to come)
//   8      loss sum (double) and 8 correct count (uint64) of the epoch so far
//   44     the shuffling generator
//   8+44t  the dropout generators, one per training thread (the trainer's threads)
//   4(+44) augmentation: a uint32 presence flag, then its generator when 1
//   8+8k   the training order (uint64 sample indices), as shuffled so far
//   8+..   history: count, then per epoch: epoch (uint64); loss, learning rate,
//          seconds, samples/s (double); accuracy, validation loss, validation
//          accuracy, each a uint32 presence flag then a double
//   8+e*p  the model's parameters
//   8      optimiser steps (uint64), then 8+e*s its state values (see sgd::state)
//   8+e*r  the model's non-trainable state (batch_norm running statistics)
//   8      checksum: FNV-1a 64 of every byte before it
//
// Any other version is refused with a weights_error naming both. Version 1 held
// neither the batch_norm statistics nor the dropout and augmentation streams, and
// version 2 not the cutout setting, so neither can resume a run exactly; such a run
// is restarted, not continued.
//
// Every problem with a checkpoint is reported as a weights_error: it is the type
// fit()'s callers have always caught for them, and README.md documents it.
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../core/random.hpp"
#include "../core/type_name.hpp"
#include "../io/atomic_file.hpp"
#include "../io/binary_codec.hpp"
#include "../io/weights.hpp"  // weights_error, the type checkpoint problems are reported as
#include "history.hpp"
#include "random_streams.hpp"

namespace typenet {

/// The settings a run must keep to be resumed (see the format above).
struct checkpoint_settings {
    std::uint64_t samples = 0, validation = 0, batch_size = 0, threads = 0, epochs = 0, seed = 0, shuffle = 0;
    std::uint64_t horizontal_flip = 0, max_shift = 0, cutout = 0;  ///< the augmentation (fit_options::augment)
    bool operator==(const checkpoint_settings&) const = default;
};

/// Where a checkpointed run stands (what read_checkpoint_info reports).
struct checkpoint_info {
    std::string architecture, optimizer;
    checkpoint_settings settings;
    std::uint64_t epoch = 0;     ///< 1-based epoch to run or continue
    std::uint64_t position = 0;  ///< samples of that epoch already trained on
    std::uint64_t optimizer_steps = 0;
    std::size_t completed_epochs = 0;
};

namespace detail {

inline constexpr std::array<unsigned char, 8> checkpoint_magic = {'T', 'N', 'C', 'H', 'K', 'P', 'T', '\0'};
inline constexpr std::uint32_t checkpoint_format_version = 3;
inline constexpr std::uint64_t checkpoint_generator_bytes = 4 * 8 + 8 + 4;

// Limits on the names, checked before anything is allocated for them: a flipped
// bit in a length reads as corruption, not as a request for 2^60 bytes.
inline constexpr std::uint64_t checkpoint_max_architecture_name = std::uint64_t{1} << 20;
inline constexpr std::uint64_t checkpoint_max_optimizer_name = std::uint64_t{1} << 20;

/// Reads a checkpoint's fields; every problem is a weights_error (see the format above).
using checkpoint_reader = binary_reader<weights_error>;

template <class T>
constexpr void check_checkpoint_element_type() {
    static_assert(is_stored_element_v<T>, "typenet: checkpoints hold IEEE float or double parameters");
}

/// The state of fit() at a checkpoint, besides the model and the optimiser.
struct fit_progress {
    checkpoint_settings settings;
    std::uint64_t epoch = 1, position = 0;
    double loss_sum = 0;
    std::uint64_t correct = 0;
    random_engine::snapshot rng{};  ///< the shuffling generator
    random_streams streams;         ///< the trainer's dropout and augmentation generators
    std::vector<std::size_t> order;
    history past;
};

inline void put_f64(binary_writer& w, double v) { w.u64(std::bit_cast<std::uint64_t>(v)); }
inline double get_f64(checkpoint_reader& r, const std::string& what) { return std::bit_cast<double>(r.u64(what)); }
inline void put_generator(binary_writer& w, const random_engine::snapshot& g) {
    for (std::uint64_t word : g.words) w.u64(word);
    put_f64(w, g.spare_normal);
    w.u32(g.has_spare_normal ? 1 : 0);
}
inline random_engine::snapshot get_generator(checkpoint_reader& r, const std::string& where, const std::string& what) {
    random_engine::snapshot g{};
    for (auto& word : g.words) word = r.u64(what);
    g.spare_normal = get_f64(r, what);
    const std::uint32_t has_spare = r.u32(what);
    if (has_spare > 1) throw weights_error(where + "corrupted: bad spare-normal flag in " + what);
    // xoshiro256** never reaches the all-zero state, and from it returns 0 forever:
    // a resumed run would hang in its next shuffle or shift (below(n) rejects 0 for
    // every n not a power of two).
    if (g.words[0] == 0 && g.words[1] == 0 && g.words[2] == 0 && g.words[3] == 0)
        throw weights_error(where + "corrupted: " + what + " is in the all-zero state, which no generator reaches");
    g.has_spare_normal = has_spare == 1;
    return g;
}
inline void put_optional(binary_writer& w, const std::optional<double>& v) {
    w.u32(v.has_value() ? 1 : 0);
    put_f64(w, v.value_or(0));
}
inline std::optional<double> get_optional(checkpoint_reader& r, const std::string& where, const std::string& what) {
    const std::uint32_t present = r.u32(what);
    const double v = get_f64(r, what);
    if (present > 1) throw weights_error(where + "corrupted: bad presence flag for " + what);
    return present ? std::optional<double>(v) : std::nullopt;
}

/// A count read from the file, bounded by the bytes left so that a corrupted count
/// is refused before anything is allocated for it.
inline std::uint64_t get_count(checkpoint_reader& r, std::uint64_t item_bytes, const std::string& where,
                               const std::string& what) {
    const std::uint64_t n = r.u64("the length of " + what);
    if (n > r.remaining() / item_bytes)
        throw weights_error(where + "truncated or corrupted: " + what + " claims " + std::to_string(n) +
                            " items, more than the " + std::to_string(r.remaining()) + " bytes left can hold");
    return n;
}

template <class Arch, class T, class Optimizer>
std::vector<unsigned char> encode_checkpoint(std::span<const T> parameters, std::span<const T> model_state,
                                             const typename Optimizer::template state<T>& optimizer_state,
                                             const fit_progress& p) {
    check_checkpoint_element_type<T>();
    binary_writer w;
    w.bytes().reserve(512 + (parameters.size() + optimizer_state.values().size() + model_state.size()) * sizeof(T) +
                      p.order.size() * 8 + (p.streams.dropout.size() + 1) * checkpoint_generator_bytes);
    w.raw(checkpoint_magic);
    w.u32(checkpoint_format_version);
    w.u32(element_code<T>);
    const std::string architecture = type_name<Arch>();
    w.str(architecture);
    w.u64(fnv1a64(architecture));
    w.str(type_name<Optimizer>());
    const auto& s = p.settings;
    for (std::uint64_t v : {s.samples, s.validation, s.batch_size, s.threads, s.epochs, s.seed, s.shuffle,
                            s.horizontal_flip, s.max_shift, s.cutout})
        w.u64(v);
    w.u64(p.epoch);
    w.u64(p.position);
    put_f64(w, p.loss_sum);
    w.u64(p.correct);
    put_generator(w, p.rng);
    w.u64(p.streams.dropout.size());
    for (const auto& g : p.streams.dropout) put_generator(w, g);
    w.u32(p.streams.augmentation ? 1 : 0);
    if (p.streams.augmentation) put_generator(w, *p.streams.augmentation);
    w.u64(p.order.size());
    for (std::size_t i : p.order) w.u64(i);
    w.u64(p.past.epochs.size());
    for (const epoch_record& e : p.past.epochs) {
        w.u64(e.epoch);
        for (double v : {e.loss, e.learning_rate, e.seconds, e.samples_per_second}) put_f64(w, v);
        put_optional(w, e.accuracy);
        put_optional(w, e.validation_loss);
        put_optional(w, e.validation_accuracy);
    }
    w.u64(parameters.size());
    w.values<T>(parameters);
    w.u64(optimizer_state.steps);
    w.u64(optimizer_state.values().size());
    w.values<T>(optimizer_state.values());
    w.u64(model_state.size());
    w.values<T>(model_state);
    w.u64(fnv1a64(w.bytes()));
    return std::move(w.bytes());
}

/// A checkpoint file checked for integrity (magic, version, structure, checksum);
/// the values stay in `bytes` until they are compared with a model.
struct parsed_checkpoint {
    std::uint32_t element_code = 0;
    checkpoint_info info;
    fit_progress progress;
    std::uint64_t parameter_count = 0, state_count = 0, model_state_count = 0;
    std::size_t parameters_offset = 0, state_offset = 0, model_state_offset = 0;
};

inline parsed_checkpoint parse_checkpoint(std::span<const unsigned char> bytes, const std::string& where) {
    if (bytes.size() < checkpoint_magic.size() ||
        !std::equal(checkpoint_magic.begin(), checkpoint_magic.end(), bytes.begin()))
        throw weights_error(where + "not a typenet checkpoint (wrong magic or too short)");
    // The checksum first: everything below may then trust the bytes' structure,
    // though counts are still bounded (a checksum is not a security boundary).
    if (bytes.size() < checkpoint_magic.size() + 8) throw weights_error(where + "truncated: no room for the checksum");
    {
        checkpoint_reader tail(bytes.subspan(bytes.size() - 8), where);
        if (tail.u64("the checksum") != fnv1a64(bytes.first(bytes.size() - 8)))
            throw weights_error(where + "checksum mismatch: the checkpoint is truncated or corrupted");
    }
    checkpoint_reader r(bytes.first(bytes.size() - 8), where);
    r.take(checkpoint_magic.size(), "the magic bytes");
    const std::uint32_t version = r.u32("the format version");
    if (version != checkpoint_format_version)
        throw weights_error(
            where + "checkpoint format version " + std::to_string(version) + "; this typenet reads version " +
            std::to_string(checkpoint_format_version) +
            (version < checkpoint_format_version
                 ? " (older checkpoints lack batch_norm statistics, the dropout and augmentation "
                   "streams or the cutout setting, so they cannot resume a run exactly; restart the run)"
                 : ""));
    parsed_checkpoint c;
    c.element_code = r.u32("the element type");
    if (c.element_code != 4 && c.element_code != 8)
        throw weights_error(where + "corrupted: unknown element type code " + std::to_string(c.element_code));
    c.info.architecture = r.str(checkpoint_max_architecture_name, "the architecture name");
    if (r.u64("the architecture fingerprint") != fnv1a64(c.info.architecture))
        throw weights_error(where + "corrupted: the architecture fingerprint does not match the architecture name");
    c.info.optimizer = r.str(checkpoint_max_optimizer_name, "the optimiser name");
    auto& s = c.progress.settings;
    for (std::uint64_t* v : {&s.samples, &s.validation, &s.batch_size, &s.threads, &s.epochs, &s.seed, &s.shuffle,
                             &s.horizontal_flip, &s.max_shift, &s.cutout})
        *v = r.u64("the run's settings");
    c.progress.epoch = r.u64("the epoch");
    c.progress.position = r.u64("the position in the epoch");
    c.progress.loss_sum = get_f64(r, "the epoch's loss sum");
    c.progress.correct = r.u64("the epoch's correct count");
    c.progress.rng = get_generator(r, where, "the shuffling generator");
    const std::uint64_t dropout = get_count(r, checkpoint_generator_bytes, where, "the dropout generators");
    for (std::uint64_t t = 0; t < dropout; ++t)
        c.progress.streams.dropout.push_back(get_generator(r, where, "the dropout generators"));
    const std::uint32_t augmenting = r.u32("the augmentation flag");
    if (augmenting > 1) throw weights_error(where + "corrupted: bad presence flag for the augmentation generator");
    if (augmenting == 1) c.progress.streams.augmentation = get_generator(r, where, "the augmentation generator");
    const std::uint64_t order = get_count(r, 8, where, "the training order");
    c.progress.order.resize(static_cast<std::size_t>(order));
    for (auto& i : c.progress.order) i = static_cast<std::size_t>(r.u64("the training order"));
    const std::uint64_t epochs = get_count(r, 8 + 4 * 8 + 3 * 12, where, "the history");
    for (std::uint64_t k = 0; k < epochs; ++k) {
        epoch_record e;
        e.epoch = static_cast<std::size_t>(r.u64("the history"));
        for (double* v : {&e.loss, &e.learning_rate, &e.seconds, &e.samples_per_second}) *v = get_f64(r, "the history");
        e.accuracy = get_optional(r, where, "the history");
        e.validation_loss = get_optional(r, where, "the history");
        e.validation_accuracy = get_optional(r, where, "the history");
        c.progress.past.epochs.push_back(e);
    }
    c.parameter_count = get_count(r, c.element_code, where, "the parameters");
    c.parameters_offset = r.take(c.parameter_count * c.element_code, "the parameters");
    c.info.optimizer_steps = r.u64("the optimiser's step count");
    c.state_count = get_count(r, c.element_code, where, "the optimiser's state");
    c.state_offset = r.take(c.state_count * c.element_code, "the optimiser's state");
    c.model_state_count = get_count(r, c.element_code, where, "the model's state");
    c.model_state_offset = r.take(c.model_state_count * c.element_code, "the model's state");
    if (r.remaining() > 0)
        throw weights_error(where + "corrupted: " + std::to_string(r.remaining()) +
                            " unexpected bytes before the checksum");

    c.info.settings = s;
    c.info.epoch = c.progress.epoch;
    c.info.position = c.progress.position;
    c.info.completed_epochs = c.progress.past.epochs.size();
    return c;
}

/// Writes a checkpoint of the run atomically.
template <class Arch, class T, class Optimizer>
void save_checkpoint(const std::filesystem::path& path, std::span<const T> parameters, std::span<const T> model_state,
                     const typename Optimizer::template state<T>& optimizer_state, const fit_progress& p) {
    write_file_atomically<weights_error>(
        path, encode_checkpoint<Arch, T, Optimizer>(parameters, model_state, optimizer_state, p));
}

/// Reads a checkpoint for this model, optimiser, run settings and trainer (its
/// dropout stream count and whether it augments). Everything is checked before
/// anything is changed: on any error weights_error is thrown and the parameters,
/// the model's state and the optimiser's state are untouched. Returns fit's
/// progress, whose streams then fit the trainer (restore_random_streams cannot fail).
template <class Arch, class T, class Optimizer>
fit_progress load_checkpoint(const std::filesystem::path& path, std::span<T> parameters, std::span<T> model_state,
                             typename Optimizer::template state<T>& optimizer_state,
                             const checkpoint_settings& settings, std::size_t dropout_streams, bool augmenting) {
    check_checkpoint_element_type<T>();
    const std::string where = path.string() + ": ";
    const std::vector<unsigned char> bytes = read_whole_file<weights_error>(path);
    parsed_checkpoint c = parse_checkpoint(bytes, where);

    if (c.element_code != element_code<T>)
        throw weights_error(where + "element type " + element_name(c.element_code) + ", model uses " +
                            element_name(element_code<T>));
    const std::string architecture = type_name<Arch>();
    if (c.info.architecture != architecture)
        throw weights_error(where + "this checkpoint is of " + c.info.architecture + " but the model is " +
                            architecture);
    if (c.info.optimizer != type_name<Optimizer>())
        throw weights_error(where + "this checkpoint is of optimiser " + c.info.optimizer + " but fit was given " +
                            type_name<Optimizer>());
    auto mismatch = [&](const char* what, std::uint64_t file, std::uint64_t now) {
        if (file != now)
            throw weights_error(where + "the checkpointed run had " + what + " = " + std::to_string(file) +
                                ", this one has " + std::to_string(now) + "; a resumed run must keep its settings");
    };
    const auto& s = c.progress.settings;
    mismatch("samples in the data set", s.samples, settings.samples);
    mismatch("validation samples", s.validation, settings.validation);
    mismatch("batch_size", s.batch_size, settings.batch_size);
    mismatch("threads", s.threads, settings.threads);
    mismatch("epochs", s.epochs, settings.epochs);
    mismatch("seed", s.seed, settings.seed);
    mismatch("shuffle", s.shuffle, settings.shuffle);
    mismatch("augment.horizontal_flip", s.horizontal_flip, settings.horizontal_flip);
    mismatch("augment.max_shift", s.max_shift, settings.max_shift);
    mismatch("augment.cutout", s.cutout, settings.cutout);
    if (c.parameter_count != parameters.size())
        throw weights_error(where + "the checkpoint holds " + std::to_string(c.parameter_count) +
                            " parameters, the model has " + std::to_string(parameters.size()));
    if (c.state_count != optimizer_state.values().size())
        throw weights_error(where + "the checkpoint holds " + std::to_string(c.state_count) +
                            " optimiser state values, this optimiser has " +
                            std::to_string(optimizer_state.values().size()));
    if (c.model_state_count != model_state.size())
        throw weights_error(where + "the checkpoint holds " + std::to_string(c.model_state_count) +
                            " state values (batch_norm statistics), the model has " +
                            std::to_string(model_state.size()));
    // The settings match, so the streams must be those of this trainer.
    if (c.progress.streams.dropout.size() != dropout_streams)
        throw weights_error(where + "corrupted: " + std::to_string(c.progress.streams.dropout.size()) +
                            " dropout generators for a run of " + std::to_string(dropout_streams) + " threads");
    if (c.progress.streams.augmentation.has_value() != augmenting)
        throw weights_error(where + "corrupted: the augmentation generator is " +
                            (augmenting ? "missing" : "present without augmentation"));
    // The order must be a permutation of the training samples' indices.
    const std::size_t train = static_cast<std::size_t>(s.samples - s.validation);
    if (c.progress.order.size() != train)
        throw weights_error(where + "corrupted: the training order has " + std::to_string(c.progress.order.size()) +
                            " entries for " + std::to_string(train) + " training samples");
    std::vector<bool> seen(static_cast<std::size_t>(s.samples), false);
    for (std::size_t i : c.progress.order) {
        if (i >= seen.size() || seen[i])
            throw weights_error(where + "corrupted: the training order is not a set of distinct sample indices");
        seen[i] = true;
    }
    if (c.progress.epoch < 1 || c.progress.epoch > s.epochs + 1 || c.progress.position > train ||
        c.progress.past.epochs.size() != c.progress.epoch - 1)
        throw weights_error(where + "corrupted: epoch " + std::to_string(c.progress.epoch) + ", position " +
                            std::to_string(c.progress.position) + " with " +
                            std::to_string(c.progress.past.epochs.size()) + " recorded epochs");

    // Everything matches: nothing below can fail.
    decode_values(parameters, bytes.data() + c.parameters_offset);
    decode_values(optimizer_state.values(), bytes.data() + c.state_offset);
    decode_values(model_state, bytes.data() + c.model_state_offset);
    optimizer_state.steps = c.info.optimizer_steps;
    return std::move(c.progress);
}

}  // namespace detail

/// Where the checkpointed run at `path` stands, without loading it into a model.
/// Throws weights_error when the file is missing, truncated or corrupted.
inline checkpoint_info read_checkpoint_info(const std::filesystem::path& path) {
    const std::vector<unsigned char> bytes = detail::read_whole_file<weights_error>(path);
    return detail::parse_checkpoint(bytes, path.string() + ": ").info;
}

}  // namespace typenet
