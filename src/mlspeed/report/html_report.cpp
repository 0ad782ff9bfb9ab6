#include "mlspeed/report/html_report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/report/chartjs.h"
#include "mlspeed/report/page_assets.h"
#include "mlspeed/verify/check.h"

namespace mlspeed::report {
namespace {

std::string colour(size_t series) { return series_colours(series + 1).back(); }

std::string escaped(const std::string& text) { return html_escape(printable(text)); }

void optional_field(nlohmann::json& j, const char* key, const std::optional<double>& value) {
  if (value) j[key] = *value;
}

nlohmann::json bar_json(const Bar& bar) {
  nlohmann::json j = {
      {"s", bar.series}, {"c", bar.category}, {"median_ms", bar.median_ms}, {"throughput", bar.throughput},
      {"n", bar.n},      {"noise", bar.noise}};
  optional_field(j, "min", bar.min);
  optional_field(j, "q1", bar.q1);
  optional_field(j, "q3", bar.q3);
  optional_field(j, "max", bar.max);
  optional_field(j, "mfu", bar.mfu);
  optional_field(j, "mbu", bar.mbu);
  optional_field(j, "speedup", bar.speedup);
  optional_field(j, "per_joule", bar.items_per_joule);
  optional_field(j, "scaling", bar.scaling_efficiency);
  j["throttle"] = bar.throttle;
  return j;
}

nlohmann::json page_data(const ReportModel& model) {
  nlohmann::json j = {{"palette", series_colours(model.series.size())}, {"baseline", model.baseline}};
  j["series"] = nlohmann::json::array();
  for (const Series& s : model.series)
    j["series"].push_back(
        {{"name", s.name}, {"device", s.device}, {"device_name", s.device_name}, {"published", s.published}});
  j["workloads"] = nlohmann::json::array();
  for (const WorkloadSection& w : model.workloads) {
    nlohmann::json bars = nlohmann::json::array();
    for (const Bar& bar : w.bars) bars.push_back(bar_json(bar));
    j["workloads"].push_back(
        {{"workload", w.workload}, {"unit", w.unit}, {"categories", w.categories}, {"bars", bars}});
  }
  return j;
}

std::string chip(const ReportModel& model, size_t s) {
  const Series& series = model.series[s];
  std::string text = series.name + (series.device_name.empty() ? "" : " (" + series.device_name + ")");
  return "<li class=\"chip\"><span class=\"swatch" + std::string(series.published ? " published" : "") +
         "\" style=\"--c:" + colour(s) + "\"></span>" + escaped(text) + "</li>";
}

void header(std::ostream& out, const ReportModel& model) {
  std::vector<std::string> names;
  for (const RunColumn& run : model.runs) names.push_back(run.name);
  out << "<header><h1>mlspeed report</h1><p class=\"sub\">" << escaped(join(names, " · ")) << " · "
      << model.workloads.size() << (model.workloads.size() == 1 ? " workload" : " workloads") << " · generated "
      << escaped(model.generated_at) << "</p><ul class=\"chips\">";
  for (size_t s = 0; s < model.series.size(); ++s) out << chip(model, s);
  out << "</ul></header>\n";
}

void html_context_table(std::ostream& out, const ReportModel& model) {
  using Field = std::string RunColumn::*;
  const std::vector<std::pair<const char*, Field>> rows = {
      {"label", &RunColumn::label},      {"date", &RunColumn::date},      {"kind", &RunColumn::kind},
      {"status", &RunColumn::status},    {"host", &RunColumn::host},      {"OS", &RunColumn::os},
      {"CPU", &RunColumn::cpu},          {"GPUs", &RunColumn::gpus},      {"LibTorch", &RunColumn::torch},
      {"CUDA", &RunColumn::cuda},        {"BLAS", &RunColumn::blas},      {"TF32", &RunColumn::tf32},
      {"build", &RunColumn::build_type}, {"command", &RunColumn::command}};
  out << "<section class=\"card\" id=\"runs\"><h2>Runs and their context</h2><div class=\"table-wrap\">"
         "<table class=\"context\"><thead><tr><th></th>";
  for (const RunColumn& run : model.runs) {
    out << "<th>" << escaped(run.name);
    if (run.published()) out << " <span class=\"badge published\">published figures</span>";
    out << "</th>";
  }
  out << "</tr></thead><tbody>";
  for (const auto& [title, field] : rows) {
    const bool any =
        std::any_of(model.runs.begin(), model.runs.end(), [&](const RunColumn& r) { return !(r.*field).empty(); });
    if (!any) continue;
    out << "<tr><th>" << title << "</th>";
    for (const RunColumn& run : model.runs) out << "<td>" << escaped(run.*field) << "</td>";
    out << "</tr>";
  }
  out << "</tbody></table></div></section>\n";
}

void published_note(std::ostream& out, const ReportModel& model) {
  const bool any = std::any_of(model.runs.begin(), model.runs.end(), [](const RunColumn& r) { return r.published(); });
  if (!any) return;
  out << "<section class=\"card published-note\"><h2>Published figures measured by other code</h2>"
         "<p class=\"note\">These rows were not measured by mlspeed: they are figures published by other people, "
         "with other code, on other machines. They are drawn with hatched swatches and pale bars.</p><ul>";
  for (const RunColumn& run : model.runs)
    if (run.published()) out << "<li><b>" << escaped(run.name) << "</b>: " << escaped(run.citation) << "</li>";
  out << "</ul></section>\n";
}

std::string verdict_counts(const verify::DeviceVerdict& v) {
  std::string text = std::to_string(v.passed) + " of " + std::to_string(v.run) + " checks passed, " +
                     std::to_string(v.failed) + " failed";
  if (v.errors) text += ", " + std::to_string(v.errors) + " errors";
  if (v.not_tested) text += ", " + std::to_string(v.not_tested) + " not tested on the device";
  if (v.skipped) text += ", " + std::to_string(v.skipped) + " skipped";
  if (v.known) text += ", " + std::to_string(v.known) + " known LibTorch issues";
  return text;
}

void verdict_cards(std::ostream& out, const ReportModel& model) {
  if (model.verdicts.empty() && model.unchecked.empty()) return;
  out << "<section class=\"card\" id=\"verify\"><h2>Verification: are the numbers right?</h2>"
         "<p class=\"note\">mlspeed verify: each device against a float64 CPU reference.</p><div class=\"verdicts\">";
  for (const std::string& run : model.unchecked)
    out << "<div class=\"verdict fail\"><span class=\"badge fail\">NO CHECKS</span> " << escaped(run)
        << ": no checks, so no verdict</div>";
  for (const VerdictCard& card : model.verdicts) {
    const verify::DeviceVerdict& v = card.verdict;
    out << "<div class=\"verdict" << (v.ok() ? "" : " fail") << "\"><span class=\"badge "
        << (v.ok() ? "pass\">PASS" : "fail\">FAIL") << "</span> <b>" << escaped(v.device)
        << "</b> <span class=\"note\">" << escaped(card.run) << "</span><br>" << escaped(verdict_counts(v));
    const size_t shown = std::min<size_t>(v.failures.size(), 5);
    if (shown || !v.known_issues.empty()) out << "<ul>";
    for (size_t i = 0; i < shown; ++i) out << "<li>" << escaped(verify::describe(v.failures[i])) << "</li>";
    if (v.failures.size() > shown) out << "<li>and " << v.failures.size() - shown << " more (mlspeed show)</li>";
    for (const auto& [issue, checks] : v.known_issues)
      out << "<li>known issue " << escaped(issue) << " (" << checks << " checks)</li>";
    if (shown || !v.known_issues.empty()) out << "</ul>";
    out << "</div>";
  }
  out << "</div></section>\n";
}

std::string figure(const std::optional<double>& value, const char* format, double scale = 1) {
  return value ? printf_string(format, *value * scale) : "";
}

void numbers_table(std::ostream& out, const ReportModel& model, const WorkloadSection& w) {
  out << "<details><summary>The numbers</summary><div class=\"table-wrap\"><table><thead><tr><th>configuration</th>"
         "<th>run · device</th><th>median ms</th><th>"
      << escaped(w.unit)
      << "</th><th>interquartile</th><th>n</th><th>MFU</th><th>MBU</th><th>speedup</th><th>per joule</th>"
         "<th>throttle</th><th>noise</th></tr></thead><tbody>";
  for (const Bar& b : w.bars) {
    const std::string iqr = b.q1 ? format_figure(*b.q1) + "–" + format_figure(*b.q3) : "";
    out << "<tr><td>" << escaped(w.categories[b.category]) << "</td><td>" << escaped(model.series[b.series].name)
        << "</td><td class=\"num\">" << printf_string("%.4g", b.median_ms) << "</td><td class=\"num\">"
        << format_figure(b.throughput) << "</td><td class=\"num\">" << iqr << "</td><td class=\"num\">"
        << (b.n ? std::to_string(b.n) : "published") << "</td><td class=\"num\">" << figure(b.mfu, "%.1f%%", 100)
        << "</td><td class=\"num\">" << figure(b.mbu, "%.1f%%", 100) << "</td><td class=\"num\">"
        << figure(b.speedup, "%.2f×") << "</td><td class=\"num\">"
        << (b.items_per_joule ? format_figure(*b.items_per_joule) : "") << "</td><td>" << escaped(b.throttle)
        << "</td><td>" << escaped(b.noise) << "</td></tr>";
  }
  out << "</tbody></table></div></details>";
}

void workload_section(std::ostream& out, const ReportModel& model, size_t index) {
  const WorkloadSection& w = model.workloads[index];
  auto any = [&](auto pick) { return std::any_of(w.bars.begin(), w.bars.end(), pick); };
  std::vector<std::pair<std::string, std::string>> charts;  // metric, words for screen readers
  if (!w.bars.empty()) charts.push_back({"throughput", "throughput of each configuration"});
  if (any([](const Bar& b) { return b.speedup.has_value(); }))
    charts.push_back({"speedup", "speedup against the baseline"});
  if (any([](const Bar& b) { return b.mfu.has_value(); })) charts.push_back({"mfu", "model FLOP utilisation"});
  if (any([](const Bar& b) { return b.mbu.has_value(); })) charts.push_back({"mbu", "memory bandwidth utilisation"});
  if (any([](const Bar& b) { return b.items_per_joule.has_value(); }))
    charts.push_back({"efficiency", "energy efficiency, items per joule"});
  if (any([](const Bar& b) { return b.scaling_efficiency.has_value(); }))
    charts.push_back({"scaling", "data-parallel scaling efficiency"});
  out << "<section class=\"card workload\"><h2>" << escaped(w.workload) << "</h2><div class=\"charts\">";
  for (size_t c = 0; c < charts.size(); ++c) {
    const bool wide = c == 0 && (charts.size() % 2 == 1 || w.categories.size() > 6);
    out << "<div class=\"chart" << (wide ? " wide" : "") << "\"><canvas role=\"img\" aria-label=\""
        << escaped(w.workload + ": " + charts[c].second) << "\" data-workload=\"" << index << "\" data-metric=\""
        << charts[c].first << "\"></canvas></div>";
  }
  out << "</div>";
  if (!w.failures.empty()) {
    out << "<h3>Not measured</h3><ul class=\"failures\">";
    for (const std::string& line : w.failures) out << "<li>" << escaped(line) << "</li>";
    out << "</ul>";
  }
  if (!w.bars.empty()) numbers_table(out, model, w);
  out << "</section>\n";
}

// Chart.js is a known file, but a "</script" in it would still end the element early.
std::string inline_script(std::string_view source) {
  std::string text(source);
  for (size_t at = 0; (at = text.find("</script", at)) != std::string::npos; at += 2) text.replace(at, 2, "<\\/");
  return text;
}

}  // namespace

// Tableau 10 first: distinct hues that stay apart for most colour-blind readers. Past ten series
// the hues step by the golden angle (137.5 degrees) from Tableau's blue, so no two series share a
// colour however many a report holds, and consecutive ones stay far apart.
std::vector<std::string> series_colours(size_t n) {
  static const std::vector<std::string> kTableau10 = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  std::vector<std::string> out(kTableau10.begin(), kTableau10.begin() + static_cast<long>(std::min(n, kTableau10.size())));
  for (size_t i = out.size(); i < n; ++i) {
    const double hue = std::fmod(211.0 + 137.508 * static_cast<double>(i - kTableau10.size() + 1), 360.0);
    // HSL (hue, 55%, 42% or 58% alternately) to RGB.
    const double s = 0.55, l = i % 2 ? 0.42 : 0.58, c = (1 - std::fabs(2 * l - 1)) * s;
    const double x = c * (1 - std::fabs(std::fmod(hue / 60.0, 2.0) - 1)), m = l - c / 2;
    const int sector = static_cast<int>(hue / 60.0) % 6;
    const double rgb[6][3] = {{c, x, 0}, {x, c, 0}, {0, c, x}, {0, x, c}, {x, 0, c}, {c, 0, x}};
    out.push_back(printf_string("#%02x%02x%02x", static_cast<int>(std::lround((rgb[sector][0] + m) * 255)),
                                static_cast<int>(std::lround((rgb[sector][1] + m) * 255)),
                                static_cast<int>(std::lround((rgb[sector][2] + m) * 255))));
  }
  return out;
}

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string script_json(const nlohmann::json& value) {
  const std::string dumped = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(dumped.size());
  // Outside strings JSON has none of these characters, so escaping them anywhere is safe.
  for (char c : dumped) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out;
}

std::string render_html(const ReportModel& model) {
  if (chartjs_source().empty())
    throw UsageError(
        "this mlspeed was built without Chart.js, which HTML reports inline: install libjs-chart.js "
        "(apt-get install libjs-chart.js) and reconfigure and rebuild (cmake -S . -B build), "
        "or write a markdown summary (--output summary.md)");
  std::ostringstream out;
  std::vector<std::string> names;
  for (const RunColumn& run : model.runs) names.push_back(run.name);
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta name=\"generator\" content=\"mlspeed report\"><title>mlspeed report: "
      << escaped(join(names, ", ")) << "</title><style>" << kPageStyle << "</style></head>\n"
      << "<body data-charts-drawn=\"0\">\n";
  header(out, model);
  out << "<main>\n";
  published_note(out, model);
  html_context_table(out, model);
  verdict_cards(out, model);
  for (size_t i = 0; i < model.workloads.size(); ++i) workload_section(out, model, i);
  if (model.workloads.empty()) out << "<section class=\"card\"><p>No speed results in these runs.</p></section>\n";
  out << "</main>\n<footer>Written by mlspeed. Charts drawn by Chart.js " << escaped(std::string(chartjs_version()))
      << " (MIT licence), inlined: the page fetches nothing.</footer>\n"
      << "<script type=\"application/json\" id=\"mlspeed-data\">" << script_json(page_data(model)) << "</script>\n"
      << "<script>" << inline_script(chartjs_source()) << "</script>\n<script>" << kPageScript << "</script>\n"
      << "</body></html>\n";
  return out.str();
}

}  // namespace mlspeed::report
