// Hands one request's GenerationEvents from the engine thread (which must never block) to the HTTP thread that
// serves the request. The engine's callback pushes; the HTTP thread pops, waiting with a time limit so it can check
// on its client in between. When the HTTP side goes away it closes the queue and the next push returns false, which
// tells the engine to drop the request.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "coordinator/engine/generation_request.h"

namespace strata {

class EventQueue {
 public:
  // Engine side. False once the queue is closed: the request is no longer wanted.
  bool push(const GenerationEvent& event);

  // HTTP side. The next event, or nullopt after `timeout` without one.
  std::optional<GenerationEvent> pop(std::chrono::milliseconds timeout);
  void close();

  // A GenerationCallback feeding `queue` (the callback keeps the queue alive).
  static GenerationCallback callback(std::shared_ptr<EventQueue> queue);

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<GenerationEvent> events_;
  bool closed_ = false;
};

}  // namespace strata
