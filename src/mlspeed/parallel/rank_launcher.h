// The ranks of a data-parallel run as processes of their own, one per device, as torchrun starts
// them: the same program with the same arguments, told its place by the environment
//   MLSPEED_RANK        0 .. world size - 1
//   MLSPEED_WORLD_SIZE  the number of ranks
//   MLSPEED_RENDEZVOUS  a c10d::FileStore's file in a directory of the launch's own, where the
//                       ranks meet (removed with the directory when the launch ends)
// Each rank's standard output and error go to files in that directory and come back whole in the
// outcome. A rank that fails is never waited on by the others: as soon as one exits with a
// non-zero status or dies of a signal, the rest are stopped (SIGTERM, then SIGKILL after a grace
// period), and a launch that outlives its timeout is killed whole. Each rank leads a process
// group of its own, which is killed when the launch ends, so that nothing a rank started stays
// running; and a rank that calls die_with_launcher() dies with the launcher (PR_SET_PDEATHSIG),
// so that a launcher killed outright leaves no rank behind either. The ranks are started with
// posix_spawn (rank_launcher.cpp says why).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace mlspeed::parallel {

struct LaunchRequest {
  int world_size = 1;
  std::string program;                       // a path; /proc/self/exe for mlspeed itself
  std::vector<std::string> args;             // without argv[0]
  std::map<std::string, std::string> env;    // added to (or replacing) this process's environment
  std::vector<std::map<std::string, std::string>> rank_env;  // by rank, after `env` (CUDA_VISIBLE_DEVICES)
  const std::atomic<bool>* stop = nullptr;   // when it turns true (Ctrl-C), the ranks are stopped
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
  std::chrono::milliseconds grace{std::chrono::seconds(2)};  // from SIGTERM to SIGKILL
};

struct RankOutcome {
  int rank = 0;
  int exit_code = -1;     // when it exited; -1 otherwise
  int signal = 0;         // the signal it died of, 0 when it exited
  bool stopped = false;   // stopped by the launcher: another rank failed, the launch timed out or was interrupted
  std::string out, err;   // its standard output and error, whole
  bool ok() const { return exit_code == 0; }
};

struct LaunchOutcome {
  std::vector<RankOutcome> ranks;
  bool timed_out = false;
  bool interrupted = false;    // the request's stop flag turned true
  std::string start_error;     // "rank 1 could not be started: PROGRAM: No such file or directory"
  double seconds = 0;          // from the first start to the last end
  double timeout_seconds = 0;  // the request's
  bool ok() const;
  // Why the launch failed, in one line naming the lowest-numbered rank that failed on its own (not
  // stopped by the launcher) and the last line of its standard error ("rank 1 exited with status 3: ..."), or the timeout; empty when ok.
  std::string failure() const;
};

// Starts the ranks and waits for them. A rank whose program cannot be started stops the ones
// already started, and the outcome says so; std::runtime_error only when the launch's own files
// cannot be made.
LaunchOutcome launch_ranks(const LaunchRequest& request);

// For a rank, first thing: asks to be killed when its launcher dies (PR_SET_PDEATHSIG), and ends
// at once if the launcher is already gone. Nothing outside a launch.
void die_with_launcher();

// This process's place, read from the environment launch_ranks sets; world_size 0 outside a launch.
struct RankPlace {
  int rank = 0;
  int world_size = 0;
  std::string rendezvous;
};
RankPlace rank_place();

}  // namespace mlspeed::parallel
