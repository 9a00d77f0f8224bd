#include "kernels/cpu/thread_pool.h"

#include <atomic>
#include <vector>

#include "gtest/gtest.h"

namespace strata::cpu {
namespace {

void expect_each_task_once(ThreadPool& pool, int64_t n_tasks) {
  std::vector<std::atomic<int>> runs(n_tasks);
  std::atomic<int> bad_thread{0};
  pool.parallel_for(n_tasks, [&](int64_t task, int thread) {
    runs[task].fetch_add(1);
    if (thread < 0 || thread >= pool.num_threads()) bad_thread.fetch_add(1);
  });
  for (int64_t t = 0; t < n_tasks; ++t) ASSERT_EQ(runs[t].load(), 1) << "task " << t << " of " << n_tasks;
  EXPECT_EQ(bad_thread.load(), 0);
}

TEST(ThreadPoolTest, RunsEveryTaskExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {0, 1, 2, 3, 7, 64, 1000}) expect_each_task_once(pool, n);
  }
}

TEST(ThreadPoolTest, ReusedAcrossManyCalls) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  for (int call = 0; call < 5000; ++call) {
    pool.parallel_for(call % 9, [&](int64_t task, int) { total.fetch_add(task + 1); });
  }
  int64_t expected = 0;
  for (int call = 0; call < 5000; ++call) {
    const int n = call % 9;
    expected += n * (n + 1) / 2;
  }
  EXPECT_EQ(total.load(), expected);
}

TEST(ThreadPoolTest, ThreadIndexIsExclusiveWithinACall) {
  // Per-thread scratch indexed by `thread` must never be used by two tasks at once.
  ThreadPool pool(4);
  std::vector<std::atomic<int>> in_use(pool.num_threads());
  std::atomic<int> clashes{0};
  for (int call = 0; call < 200; ++call) {
    pool.parallel_for(64, [&](int64_t, int thread) {
      if (in_use[thread].fetch_add(1) != 0) clashes.fetch_add(1);
      std::atomic<int> spin{0};
      while (spin.fetch_add(1, std::memory_order_relaxed) < 200) {
      }
      in_use[thread].fetch_sub(1);
    });
  }
  EXPECT_EQ(clashes.load(), 0);
}

TEST(ThreadPoolTest, WorkersWakeAfterParking) {
  // Longer than the spin window: workers park on the futex and must come back for the next job.
  ThreadPool pool(2);
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    expect_each_task_once(pool, 100);
  }
}

TEST(ThreadPoolTest, NonPositiveThreadCountMeansCallerOnly) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.num_threads(), 1);
  expect_each_task_once(pool, 10);
}

}  // namespace
}  // namespace strata::cpu
