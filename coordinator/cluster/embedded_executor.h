// The in-process executor: one stage holding every layer, on this machine's CPU backend.
#pragma once

#include <map>
#include <memory>

#include "coordinator/cluster/executor.h"
#include "worker/local_model.h"

namespace strata {

class EmbeddedExecutor final : public Executor {
 public:
  explicit EmbeddedExecutor(LocalModel& model) : model_(model) {}
  ExecutorInfo info() const override;
  absl::StatusOr<std::vector<StepOutput>> execute(const std::vector<StepSequence>& batch) override;
  void release(uint64_t seq_id) override { samplers_.erase(seq_id); }

 private:
  struct SequenceSampling {
    std::unique_ptr<Sampler> sampler;
    std::vector<int32_t> prompt;
    std::vector<int32_t> generated;
  };
  LocalModel& model_;
  std::map<uint64_t, SequenceSampling> samplers_;
  std::vector<float> logits_;
};

}  // namespace strata
