#include "mlspeed/device/powercap_energy.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include "mlspeed/device/periodic_sampler.h"

namespace mlspeed {
namespace {

namespace fs = std::filesystem;

struct Zone {
  std::string name;         // "package-0", "dram-0"
  std::string energy_path;  // .../energy_uj
  double range_uj = 0;      // max_energy_range_uj: where the counter wraps
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Packages ("intel-rapl:N" named package-N) and their DRAM zones, sorted by path.
std::vector<Zone> find_zones(const fs::path& powercap, const SysfsReader& read) {
  std::vector<fs::path> packages;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(powercap, error)) {
    const std::string base = entry.path().filename().string();
    if (base.rfind("intel-rapl:", 0) == 0 && base.find(':', 11) == std::string::npos) packages.push_back(entry.path());
  }
  std::sort(packages.begin(), packages.end());
  std::vector<Zone> zones;
  const auto add = [&](const fs::path& dir, const std::string& name) {
    zones.push_back({name, (dir / "energy_uj").string(), std::atof(read((dir / "max_energy_range_uj").string()).text.c_str())});
  };
  for (const fs::path& package : packages) {
    const std::string name = trimmed(read((package / "name").string()).text);
    if (name.rfind("package", 0) != 0) continue;  // psys holds the packages: not added to them
    add(package, name);
    std::vector<fs::path> children;
    for (const auto& entry : fs::directory_iterator(package, error))
      if (entry.is_directory() && entry.path().filename().string().rfind("intel-rapl:", 0) == 0)
        children.push_back(entry.path());
    std::sort(children.begin(), children.end());
    for (const fs::path& child : children)
      if (trimmed(read((child / "name").string()).text) == "dram")
        add(child, "dram-" + name.substr(name.find('-') + 1));
  }
  return zones;
}

std::string why_unreadable(const std::string& path, int error) {
  if (error == EACCES || error == EPERM)
    return path + " is readable by root only (Linux restricts RAPL's counters since CVE-2020-8694): run as root "
                  "or make the file readable";
  return path + ": " + std::strerror(error);
}

class PowercapMeter : public EnergyMeter {
 public:
  // Without zones (`no_zones` says why) it reads the clocks alone.
  PowercapMeter(std::vector<Zone> zones, std::vector<std::string> clocks, SysfsReader read, std::string no_zones = "")
      : zones_(std::move(zones)), clocks_(std::move(clocks)), read_(std::move(read)), no_zones_(std::move(no_zones)),
        sampler_(std::chrono::milliseconds(100), [this] { sample(); }) {}

  void start() override {
    const std::lock_guard<std::mutex> lock(mutex_);
    last_.assign(zones_.size(), 0);
    total_uj_.assign(zones_.size(), 0);
    clock_samples_.clear();
    failure_.clear();
    for (size_t i = 0; i < zones_.size() && failure_.empty(); ++i) last_[i] = counter(i);
    started_ = std::chrono::steady_clock::now();
    sampler_.start();
  }

  EnergyReading stop() override {
    sampler_.stop();
    sample();
    const std::lock_guard<std::mutex> lock(mutex_);
    EnergyReading r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    summarise_clocks(clock_samples_, r);
    if (!failure_.empty() || zones_.empty()) {
      r.unavailable = "not available: " + (zones_.empty() ? no_zones_ : failure_);
      return r;
    }
    double uj = 0;
    for (double t : total_uj_) uj += t;
    r.joules = uj / 1e6;
    r.source = "rapl";
    for (size_t i = 0; i < zones_.size(); ++i) r.source += (i ? "+" : " ") + zones_[i].name;
    return r;
  }

 private:
  // A zone's counter, or 0 with failure_ set.
  double counter(size_t i) {
    const SysfsText t = read_(zones_[i].energy_path);
    if (t.error) {
      failure_ = why_unreadable(zones_[i].energy_path, t.error);
      return 0;
    }
    return std::atof(t.text.c_str());
  }

  // Each counter's advance since the last read (once round its range where it wrapped), and the
  // cores' mean clock.
  void sample() {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < zones_.size() && failure_.empty(); ++i) {
      const double now = counter(i);
      if (!failure_.empty()) break;
      total_uj_[i] += now >= last_[i] ? now - last_[i] : now + zones_[i].range_uj - last_[i];
      last_[i] = now;
    }
    double khz = 0;
    int read = 0;
    for (const std::string& path : clocks_) {
      const SysfsText t = read_(path);
      if (!t.error) khz += std::atof(t.text.c_str()), ++read;
    }
    if (read > 0) clock_samples_.push_back(khz / read / 1e3);
  }

  std::vector<Zone> zones_;
  std::vector<std::string> clocks_;  // cpuN/cpufreq/scaling_cur_freq, kHz
  SysfsReader read_;
  std::string no_zones_;
  std::mutex mutex_;
  std::vector<double> last_, total_uj_, clock_samples_;
  std::string failure_;
  std::chrono::steady_clock::time_point started_;
  PeriodicSampler sampler_;  // last: stopped before the members it reads go
};

std::vector<std::string> clock_files(const fs::path& cpus) {
  std::vector<std::string> out;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(cpus, error)) {
    const std::string base = entry.path().filename().string();
    if (base.size() > 3 && base.rfind("cpu", 0) == 0 && std::isdigit(static_cast<unsigned char>(base[3]))) {
      const fs::path f = entry.path() / "cpufreq" / "scaling_cur_freq";
      if (fs::exists(f, error)) out.push_back(f.string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

SysfsText read_sysfs(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {"", errno ? errno : ENOENT};
  std::ostringstream text;
  text << in.rdbuf();
  return {text.str(), 0};
}

std::unique_ptr<EnergyMeter> make_powercap_meter(const std::string& sysfs, const SysfsReader& read) {
  const fs::path powercap = fs::path(sysfs) / "class" / "powercap";
  std::vector<Zone> zones = find_zones(powercap, read);
  std::string why;
  if (zones.empty())
    why = "no RAPL energy counters under " + powercap.string() + " (a virtual machine, or a CPU or kernel without RAPL)";
  for (const Zone& z : zones)
    if (const SysfsText t = read(z.energy_path); t.error && why.empty()) why = why_unreadable(z.energy_path, t.error);
  std::vector<std::string> clocks = clock_files(fs::path(sysfs) / "devices" / "system" / "cpu");
  if (!why.empty() && clocks.empty()) return unavailable_energy_meter(why);
  if (!why.empty()) zones.clear();  // the clocks alone
  return std::make_unique<PowercapMeter>(std::move(zones), std::move(clocks), read, why);
}

std::unique_ptr<EnergyMeter> make_powercap_meter() {
  const char* root = std::getenv("MLSPEED_SYSFS_ROOT");
  return make_powercap_meter(root && *root ? root : "/sys");
}

}  // namespace mlspeed
