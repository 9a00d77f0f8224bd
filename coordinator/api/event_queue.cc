#include "coordinator/api/event_queue.h"

#include <utility>

namespace strata {

bool EventQueue::push(const GenerationEvent& event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    events_.push_back(event);
  }
  ready_.notify_one();
  return true;
}

std::optional<GenerationEvent> EventQueue::pop(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
  GenerationEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

void EventQueue::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  events_.clear();
}

GenerationCallback EventQueue::callback(std::shared_ptr<EventQueue> queue) {
  return [queue = std::move(queue)](const GenerationEvent& event) { return queue->push(event); };
}

}  // namespace strata
