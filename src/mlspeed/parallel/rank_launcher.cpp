#include "mlspeed/parallel/rank_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <thread>

#include "mlspeed/core/files.h"

extern char** environ;

namespace mlspeed::parallel {
namespace {

namespace fs = std::filesystem;
using LaunchClock = std::chrono::steady_clock;

std::string make_launch_dir() {
  std::string pattern = (fs::temp_directory_path() / "mlspeed-ranks-XXXXXX").string();
  if (!mkdtemp(pattern.data()))
    throw std::runtime_error("could not make a directory for the ranks under " + fs::temp_directory_path().string() +
                             ": " + std::strerror(errno));
  return pattern;
}

// This process's environment with `extra` added or replacing entries of the same name.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    if (!extra.count(entry.substr(0, entry.find('=')))) out.push_back(entry);
  }
  for (const auto& [name, value] : extra) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// One rank: a process leading its own process group, its streams in files.
struct Rank {
  pid_t pid = -1;
  bool running = false;
  std::string out_path, err_path;
};

// posix_spawn rather than fork: a LibTorch process is large and has many threads, and fork would
// copy its page tables and run every library's atfork handlers (CUDA's, OpenMP's) in both
// processes. The rank leads a process group of its own; its signals start from their defaults.
// Returns 0 or the error number of a program that could not be started.
int start(Rank& rank, std::vector<std::string> argv, std::vector<std::string> envp) {
  const int out_fd = open(rank.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = open(rank.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out_fd < 0 || err_fd < 0)
    throw std::runtime_error("could not open the rank's output files: " + std::string(std::strerror(errno)));
  std::vector<char*> argv_ptrs = pointers(argv), envp_ptrs = pointers(envp);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t no_signals, default_signals;
  sigemptyset(&no_signals);
  sigfillset(&default_signals);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setsigmask(&attributes, &no_signals);
  posix_spawnattr_setsigdefault(&attributes, &default_signals);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, argv_ptrs[0], &actions, &attributes, argv_ptrs.data(), envp_ptrs.data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  close(out_fd);
  close(err_fd);
  if (error != 0) return error;
  rank.pid = pid;
  rank.running = true;
  return 0;
}

void signal_running(std::vector<Rank>& ranks, LaunchOutcome& outcome, int signo) {
  for (size_t r = 0; r < ranks.size(); ++r)
    if (ranks[r].running) {
      killpg(ranks[r].pid, signo);
      outcome.ranks[r].stopped = true;
    }
}

// Reaps the ranks that ended; returns whether one of them failed on its own.
bool reap(std::vector<Rank>& ranks, LaunchOutcome& outcome) {
  bool failed = false;
  for (size_t r = 0; r < ranks.size(); ++r) {
    if (!ranks[r].running) continue;
    int status = 0;
    if (waitpid(ranks[r].pid, &status, WNOHANG) != ranks[r].pid) continue;
    ranks[r].running = false;
    RankOutcome& o = outcome.ranks[r];
    if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
    failed = failed || (!o.ok() && !o.stopped);
  }
  return failed;
}

bool any_running(const std::vector<Rank>& ranks) {
  for (const Rank& r : ranks)
    if (r.running) return true;
  return false;
}

// Waits for every rank: stops the others once one fails, kills all at the timeout.
void supervise(std::vector<Rank>& ranks, LaunchOutcome& outcome, const LaunchRequest& request, LaunchClock::time_point t0) {
  std::optional<LaunchClock::time_point> kill_at;
  while (any_running(ranks)) {
    const LaunchClock::time_point now = LaunchClock::now();
    if (reap(ranks, outcome) && !kill_at) {
      signal_running(ranks, outcome, SIGTERM);
      kill_at = now + request.grace;
    }
    if (!outcome.timed_out && now - t0 > request.timeout) {
      outcome.timed_out = true;
      signal_running(ranks, outcome, SIGKILL);
    }
    if (request.stop && *request.stop && !outcome.interrupted) {
      outcome.interrupted = true;
      signal_running(ranks, outcome, SIGTERM);
      if (!kill_at) kill_at = now + request.grace;
    }
    if (kill_at && now > *kill_at) signal_running(ranks, outcome, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\n\r ");
  if (end == std::string::npos) return "";
  const size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

LaunchOutcome launch_ranks(const LaunchRequest& request) {
  if (request.world_size < 1) throw std::invalid_argument("launch_ranks: the world size must be at least 1");
  const std::string dir = make_launch_dir();
  LaunchOutcome outcome;
  std::vector<Rank> ranks(static_cast<size_t>(request.world_size));
  const LaunchClock::time_point t0 = LaunchClock::now();
  try {
    for (int r = 0; r < request.world_size && outcome.start_error.empty(); ++r) {
      outcome.ranks.emplace_back();
      outcome.ranks.back().rank = r;
      ranks[r].out_path = dir + "/rank" + std::to_string(r) + ".out";
      ranks[r].err_path = dir + "/rank" + std::to_string(r) + ".err";
      std::map<std::string, std::string> env = request.env;
      env["MLSPEED_RANK"] = std::to_string(r);
      env["MLSPEED_WORLD_SIZE"] = std::to_string(request.world_size);
      env["MLSPEED_RENDEZVOUS"] = dir + "/store";
      if (static_cast<size_t>(r) < request.rank_env.size())
        for (const auto& [name, value] : request.rank_env[r]) env[name] = value;
      env["MLSPEED_LAUNCHER_PID"] = std::to_string(getpid());
      std::vector<std::string> argv{request.program};
      argv.insert(argv.end(), request.args.begin(), request.args.end());
      if (const int error = start(ranks[r], std::move(argv), environment_with(env)))
        outcome.start_error = "rank " + std::to_string(r) + " could not be started: " + request.program + ": " +
                              std::strerror(error);
    }
    if (!outcome.start_error.empty()) signal_running(ranks, outcome, SIGKILL);
  } catch (...) {
    signal_running(ranks, outcome, SIGKILL);
    for (Rank& r : ranks)
      if (r.running) waitpid(r.pid, nullptr, 0);
    remove_tree(dir);
    throw;
  }
  supervise(ranks, outcome, request, t0);
  outcome.seconds = std::chrono::duration<double>(LaunchClock::now() - t0).count();
  outcome.timeout_seconds = std::chrono::duration<double>(request.timeout).count();
  for (size_t r = 0; r < outcome.ranks.size(); ++r) {
    if (ranks[r].pid > 0) killpg(ranks[r].pid, SIGKILL);  // whatever the rank left running in its group
    outcome.ranks[r].out = read_whole_file(ranks[r].out_path).value_or("");
    outcome.ranks[r].err = read_whole_file(ranks[r].err_path).value_or("");
  }
  remove_tree(dir);
  return outcome;
}

bool LaunchOutcome::ok() const {
  if (timed_out || interrupted || !start_error.empty() || ranks.empty()) return false;
  for (const RankOutcome& r : ranks)
    if (!r.ok()) return false;
  return true;
}

std::string LaunchOutcome::failure() const {
  if (!start_error.empty()) return start_error;
  for (const RankOutcome& r : ranks) {
    if (r.ok() || r.stopped) continue;
    const std::string why = r.signal ? "died of signal " + std::to_string(r.signal) + " (" + strsignal(r.signal) + ")"
                                     : "exited with status " + std::to_string(r.exit_code);
    const std::string line = last_line(r.err);
    return "rank " + std::to_string(r.rank) + " " + why + (line.empty() ? "" : ": " + line);
  }
  if (interrupted) return "interrupted; every rank was stopped";
  if (timed_out)
    return "the ranks did not finish within " + std::to_string(static_cast<long>(timeout_seconds)) +
           " s; every rank was stopped";
  return "";
}

void die_with_launcher() {
  const char* launcher = std::getenv("MLSPEED_LAUNCHER_PID");
  if (!launcher) return;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != static_cast<pid_t>(std::atol(launcher))) _exit(1);  // it died before prctl
}

RankPlace rank_place() {
  RankPlace place;
  const char* rank = std::getenv("MLSPEED_RANK");
  const char* size = std::getenv("MLSPEED_WORLD_SIZE");
  const char* store = std::getenv("MLSPEED_RENDEZVOUS");
  if (!rank || !size || !store) return place;
  place.rank = std::atoi(rank);
  place.world_size = std::atoi(size);
  place.rendezvous = store;
  return place;
}

}  // namespace mlspeed::parallel
