#include "mlspeed/device/host.h"

#include <dlfcn.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/version.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "mlspeed/device/build_facts.h"
#include "mlspeed/device/cpu_setup.h"
#include "mlspeed/device/cuda.h"

#if defined(__APPLE__)
#include <sys/sysctl.h>
#else
#include <link.h>
#endif

namespace mlspeed {
namespace {

std::string trim_quotes(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n\"");
  const auto last = s.find_last_not_of(" \t\r\n\"");
  return first == std::string::npos ? "" : s.substr(first, last - first + 1);
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return trim_quotes(line);
}

#if defined(__APPLE__)
std::string sysctl_string(const char* key) {
  size_t size = 0;
  if (sysctlbyname(key, nullptr, &size, nullptr, 0) != 0 || size == 0) return "";
  std::string value(size, '\0');
  if (sysctlbyname(key, value.data(), &size, nullptr, 0) != 0) return "";
  return trim_quotes(value.c_str());
}
int sysctl_int(const char* key) {
  int value = 0;
  size_t size = sizeof value;
  return sysctlbyname(key, &value, &size, nullptr, 0) == 0 ? value : 0;
}
#endif

std::string os_description() {
  utsname u{};
  uname(&u);
  std::string kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
#if defined(__APPLE__)
  const std::string product = sysctl_string("kern.osproductversion");
  return product.empty() ? kernel : "macOS " + product + " (" + kernel + ")";
#else
  std::ifstream in("/etc/os-release");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("PRETTY_NAME=", 0) == 0) return trim_quotes(line.substr(12)) + " (" + kernel + ")";
  return kernel;
#endif
}

// CPU model and physical core count.
std::pair<std::string, int> cpu_model_and_cores() {
#if defined(__APPLE__)
  return {sysctl_string("machdep.cpu.brand_string"), sysctl_int("hw.physicalcpu")};
#else
  std::ifstream in("/proc/cpuinfo");
  std::string model, physical_id;
  std::set<std::pair<std::string, std::string>> cores;  // (package, core)
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim_quotes(line.substr(0, colon)), value = trim_quotes(line.substr(colon + 1));
    if (model.empty() && (key == "model name" || key == "Model" || key == "Hardware")) model = value;
    if (key == "physical id") physical_id = value;
    if (key == "core id") cores.emplace(physical_id, value);
  }
  int physical = static_cast<int>(cores.size());
  if (physical == 0) physical = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));  // no topology given
  return {model.empty() ? "unknown CPU" : model, physical};
#endif
}

// The libraries loaded into this process whose path contains `needle` (realpath, so Debian's
// alternatives symlink libblas.so.3 shows which BLAS it really is).
std::string loaded_library_containing(const std::string& needle) {
#if defined(__APPLE__)
  (void)needle;
  return "";
#else
  struct Search {
    std::string needle, found;
  } search{needle, ""};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        if (!info->dlpi_name || !*info->dlpi_name) return 0;
        char resolved[PATH_MAX];
        const std::string path = realpath(info->dlpi_name, resolved) ? resolved : info->dlpi_name;
        if (path.find(s->needle) != std::string::npos) {
          s->found = path;
          return 1;
        }
        return 0;
      },
      &search);
  return search.found;
#endif
}

// Which BLAS LibTorch's matrix products actually go through, found at run time: the build
// config only says what it was compiled against, and Debian switches BLAS with alternatives.
std::string detect_blas() {
  using ConfigFn = char* (*)();
  if (auto fn = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
    return trim_quotes(fn());
  if (auto fn = reinterpret_cast<void (*)(char*, int)>(dlsym(RTLD_DEFAULT, "mkl_get_version_string"))) {
    char buf[256] = {};
    fn(buf, sizeof buf);
    return trim_quotes(buf);
  }
  if (!loaded_library_containing("openblas").empty()) return "OpenBLAS";
  if (!loaded_library_containing("libmkl").empty()) return "Intel MKL";
  if (!loaded_library_containing("blis").empty()) return "BLIS";
  const std::string blas = loaded_library_containing("/blas/libblas.so");
  if (!blas.empty()) return "reference BLAS (" + blas + ")";
#if defined(__APPLE__)
  if (dlsym(RTLD_DEFAULT, "cblas_sgemm")) return "Accelerate (or another BLAS linked by LibTorch)";
#endif
  // Statically linked into LibTorch (pip wheels): the build configuration is all we can see.
  const std::string config = at::show_config();
  const auto at = config.find("BLAS_INFO=");
  if (at != std::string::npos) {
    const auto end = config.find(',', at);
    return "LibTorch built with " + config.substr(at + 10, end - at - 10);
  }
  return "unknown";
}

std::string compiler_description() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#else
  return "unknown compiler";
#endif
}

}  // namespace

HostFacts collect_host_facts() {
  HostFacts h;
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  h.hostname = name;
  h.os = os_description();
  std::tie(h.cpu_model, h.physical_cores) = cpu_model_and_cores();
  h.logical_cpus = static_cast<int>(std::thread::hardware_concurrency());
  h.ram_bytes = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  h.torch_threads = at::get_num_threads();
  h.cpu_allocator = cpu_allocator_description();
  h.torch_version = TORCH_VERSION;
  h.cuda_version = cuda::runtime_version();
  h.cudnn_version = cuda::cudnn_version();
  h.blas = detect_blas();
  h.mlspeed_version = mlspeed_version();
  h.build_type = build_type();
  h.compiler = compiler_description();
  h.sanitized = built_with_sanitizers();
  return h;
}

std::vector<std::string> measurement_warnings(const HostFacts& host) {
  std::vector<std::string> warnings;
  if (host.build_type.find("unoptimised") != std::string::npos || host.build_type == "Debug")
    warnings.push_back("mlspeed is a " + host.build_type +
                       " build: its own overhead may show in the timings; build with "
                       "-DCMAKE_BUILD_TYPE=Release");
  if (host.sanitized)
    warnings.push_back("mlspeed was built with sanitizers: timings are much slower than the hardware");
  if (host.blas.rfind("reference BLAS", 0) == 0)
    warnings.push_back("LibTorch uses the reference BLAS: CPU matrix products run ~50x slower; install "
                       "OpenBLAS (Debian: apt-get install libopenblas0-pthread)");
  const std::string governor = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  if (!governor.empty() && governor != "performance")
    warnings.push_back("CPU frequency scaling governor is '" + governor + "': CPU timings may be noisy");
  return warnings;
}

}  // namespace mlspeed
