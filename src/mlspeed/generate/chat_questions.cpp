#include "mlspeed/generate/chat_questions.h"

#include "mlspeed/core/stats.h"

namespace mlspeed {

const std::vector<std::string>& chat_questions() {
  static const std::vector<std::string> questions = {
      "Explain step by step how the gears on a bicycle make it easier to ride up a hill.",
      "Walk me through how rain forms, from water evaporating to a drop falling from a cloud.",
      "Describe step by step how a letter travels from a post box to the address on its envelope.",
      "How does a frog grow from an egg into an adult? Go through each stage in order.",
      "Explain step by step how a microwave oven heats food.",
      "What happens to a sandwich from the first bite until the body has absorbed it? Go through it in order.",
      "How can a sailing boat move forward against the wind? Explain it step by step.",
      "Describe step by step how tea is grown, processed and brewed into a cup of tea.",
      "How do ants find food and lead the rest of their colony to it? Explain each step.",
      "Explain step by step how glass bottles are collected and recycled into new ones.",
      "How does a pendulum clock keep time? Go through its parts and what each one does.",
      "Explain step by step how a tree carries water from the soil up to its leaves.",
      "How does an electric motor turn electricity into motion? Explain it step by step.",
      "What are the steps of making fresh pasta by hand, from flour to a cooked plate?",
      "How does a wind turbine generate electricity? Explain it step by step.",
      "Describe what happens in the body during a night's sleep, from falling asleep to waking up.",
      "Explain step by step how an email gets from one person's computer to another person's inbox.",
      "How do volcanoes form and erupt? Go through the process step by step.",
      "Explain step by step how a vaccine teaches the immune system to recognise a disease.",
      "What are the stages of building a house, from the first plan to moving in?",
  };
  return questions;
}

ChatSpeedSummary summarize_chat_speeds(const std::vector<GenerationRow>& rows) {
  ChatSpeedSummary s;
  std::vector<double> prompt, generation;
  for (const GenerationRow& row : rows) {
    if (row.status != Status::ok) {
      ++s.failed;
      continue;
    }
    ++s.generations;
    s.new_tokens += row.new_tokens;
    s.ended_by_eos += row.stopped_by == "eos" ? 1 : 0;
    s.total_s += row.total_ms.value_or(0) / 1e3;
    if (row.prompt_tokens_per_s) prompt.push_back(*row.prompt_tokens_per_s);
    if (row.generation_tokens_per_s) generation.push_back(*row.generation_tokens_per_s);
  }
  s.prompt_samples = static_cast<int64_t>(prompt.size());
  s.generation_samples = static_cast<int64_t>(generation.size());
  if (!prompt.empty()) {
    s.prompt_mean = mean(prompt);
    s.prompt_median = median(prompt);
  }
  if (!generation.empty()) {
    s.generation_mean = mean(generation);
    s.generation_median = median(generation);
  }
  return s;
}

}  // namespace mlspeed
