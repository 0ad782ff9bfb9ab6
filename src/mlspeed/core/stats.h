// Statistics over raw per-iteration samples: small pure functions, as in google/benchmark.
#pragma once

#include <vector>

namespace mlspeed {

double mean(const std::vector<double>& xs);
double median(std::vector<double> xs);
double stddev(const std::vector<double>& xs);  // sample standard deviation (n - 1); 0 for n < 2
double min_of(const std::vector<double>& xs);
double max_of(const std::vector<double>& xs);
double coefficient_of_variation(const std::vector<double>& xs);  // stddev / mean

struct Summary {
  int n = 0;
  double median = 0, mean = 0, stddev = 0, min = 0, max = 0, cv = 0;
};
Summary summarize(const std::vector<double>& xs);  // all zeros for an empty vector

}  // namespace mlspeed
