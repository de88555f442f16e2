#pragma once
// Training progress on stderr. On a terminal one status line is redrawn in place
// (epoch, batch, samples/s, running loss, ETA) at most ten times a second; when
// stderr is a file or a pipe only the per-epoch summary lines are written, so
// logs stay readable.
#include <chrono>
#include <cstddef>
#include <cstdio>

#include <unistd.h>

#include "history.hpp"

namespace typenet {

class progress_reporter {
public:
    progress_reporter(bool enabled, std::size_t epochs, std::size_t batches_per_epoch, std::size_t samples_per_epoch)
        : enabled_(enabled),
          interactive_(enabled && ::isatty(STDERR_FILENO) == 1),
          epochs_(epochs),
          batches_(batches_per_epoch),
          samples_(samples_per_epoch) {}

    void epoch_started(std::size_t epoch) {
        epoch_ = epoch;
        epoch_start_ = clock::now();
        last_draw_ = epoch_start_;
    }

    /// After each batch: `done` samples of this epoch so far, mean loss so far.
    void batch_done(std::size_t batch, std::size_t done, double running_loss) {
        if (!interactive_) return;
        const auto now = clock::now();
        if (now - last_draw_ < std::chrono::milliseconds(100) && batch != batches_) return;
        last_draw_ = now;
        const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
        const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
        const double eta = rate > 0 ? static_cast<double>(samples_ - done) / rate : 0;
        std::fprintf(stderr, "\r\033[Kepoch %zu/%zu  batch %zu/%zu  %.0f samples/s  loss %.4f  ETA %.1fs", epoch_,
                     epochs_, batch, batches_, rate, running_loss, eta);
        std::fflush(stderr);
    }

    void epoch_finished(const epoch_record& r) {
        if (!enabled_) return;
        if (interactive_) std::fprintf(stderr, "\r\033[K");
        std::fprintf(stderr, "epoch %zu/%zu  loss %.4f", r.epoch, epochs_, r.loss);
        if (r.accuracy) std::fprintf(stderr, "  acc %.4f", *r.accuracy);
        if (r.validation_loss) std::fprintf(stderr, "  val_loss %.4f", *r.validation_loss);
        if (r.validation_accuracy) std::fprintf(stderr, "  val_acc %.4f", *r.validation_accuracy);
        std::fprintf(stderr, "  %.2fs  %.0f samples/s\n", r.seconds, r.samples_per_second);
    }

private:
    using clock = std::chrono::steady_clock;
    bool enabled_, interactive_;
    std::size_t epochs_, batches_, samples_;
    std::size_t epoch_ = 0;
    clock::time_point epoch_start_, last_draw_;
};

}  // namespace typenet
