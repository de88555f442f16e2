#pragma once
// A fixed team of threads for splitting a training step. The calling thread is
// member 0; the others wait on a barrier that spins before it sleeps
// (spinning_barrier.hpp). run(job) lets every member execute job(member) once and
// returns when all have finished; within a job, sync() is a meeting of all members,
// so that one job can hold a step's phases. Jobs are passed as a function pointer and
// a context pointer, so dispatching allocates nothing.
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "spinning_barrier.hpp"

namespace typenet {

class thread_team {
public:
    explicit thread_team(std::size_t members)
        : members_(members < 1 ? 1 : members), start_(members_), done_(members_), meet_(members_) {
        for (std::size_t m = 1; m < members_; ++m) workers_.emplace_back([this, m] { work(m); });
    }
    thread_team(const thread_team&) = delete;
    thread_team& operator=(const thread_team&) = delete;

    ~thread_team() {
        if (members_ > 1) {
            stopping_ = true;
            start_.arrive_and_wait();
        }
        for (auto& w : workers_) w.join();
    }

    std::size_t size() const noexcept { return members_; }

    /// Within a job run by run(): returns when every member has called it as often.
    /// Every member must reach each call, also on its error paths (a member that
    /// throws before it leaves the others waiting): a job with meetings catches
    /// inside and reports after them.
    void sync() noexcept {
        if (members_ > 1) meet_.arrive_and_wait();
    }

    /// Runs f(member) on every member (member 0 on the calling thread). The first
    /// exception thrown by any member is rethrown here after all have finished.
    template <class F>
    void run(F& f) {
        if (members_ == 1) {
            f(std::size_t{0});
            return;
        }
        job_ = [](void* ctx, std::size_t m) { (*static_cast<F*>(ctx))(m); };
        context_ = &f;
        error_ = nullptr;
        start_.arrive_and_wait();
        execute(0);
        done_.arrive_and_wait();
        if (error_) std::rethrow_exception(error_);
    }

private:
    void execute(std::size_t m) {
        try {
            job_(context_, m);
        } catch (...) {
            std::lock_guard lock(error_mutex_);
            if (!error_) error_ = std::current_exception();
        }
    }

    void work(std::size_t m) {
        for (;;) {
            start_.arrive_and_wait();
            if (stopping_) return;
            execute(m);
            done_.arrive_and_wait();
        }
    }

    std::size_t members_;
    spinning_barrier start_, done_, meet_;
    std::vector<std::thread> workers_;
    void (*job_)(void*, std::size_t) = nullptr;
    void* context_ = nullptr;
    bool stopping_ = false;
    std::exception_ptr error_;
    std::mutex error_mutex_;
};

/// [begin, end) of part `index` when n items are split into `parts` nearly equal
/// contiguous parts, each a multiple of `granule` except the last.
inline std::pair<std::size_t, std::size_t> split_range(std::size_t n, std::size_t parts, std::size_t index,
                                                       std::size_t granule = 1) {
    const std::size_t units = (n + granule - 1) / granule;
    const std::size_t per = units / parts, extra = units % parts;
    const std::size_t first = index * per + (index < extra ? index : extra);
    const std::size_t count = per + (index < extra ? 1 : 0);
    const std::size_t begin = first * granule < n ? first * granule : n;
    const std::size_t end = (first + count) * granule < n ? (first + count) * granule : n;
    return {begin, end};
}

}  // namespace typenet
