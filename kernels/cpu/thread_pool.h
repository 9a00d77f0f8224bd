// A persistent pool of compute threads for the CPU kernels.
//
// Threads are created once. Between jobs they spin for a short while (a decode step issues its matmuls a few
// microseconds apart, and a futex wake costs tens of microseconds), then park on a futex until the next job.
// The calling thread takes part in every job, so a pool of N threads runs N - 1 workers.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace strata::cpu {

class ThreadPool {
 public:
  // `n_threads` counts the caller; values below 1 mean 1 (everything runs on the caller).
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(task, thread) once for every task in [0, n_tasks), spread over the threads; `thread` is in
  // [0, num_threads()) and no two concurrent calls share one, so it may index per-thread scratch. Tasks are handed
  // out in increasing order. Returns when all tasks are done. Calls from different threads are serialized.
  template <typename Fn>
  void parallel_for(int64_t n_tasks, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    run(
        n_tasks, [](void* ctx, int64_t task, int thread) { (*static_cast<F*>(ctx))(task, thread); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using TaskFn = void (*)(void* ctx, int64_t task, int thread);

  void run(int64_t n_tasks, TaskFn fn, void* ctx);
  void worker_loop(int thread);
  void drain(int thread);

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one job at a time

  // The current job; written by the caller before `generation_` is bumped, read by workers after they see it.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_tasks_ = 0;

  // Separate cache lines: workers hammer `next_task_` and `done_` while spinners poll `generation_`.
  alignas(64) std::atomic<uint32_t> generation_{0};
  alignas(64) std::atomic<int64_t> next_task_{0};
  alignas(64) std::atomic<int> done_{0};
  alignas(64) std::atomic<bool> stop_{false};
};

}  // namespace strata::cpu
