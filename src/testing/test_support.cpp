#include "testing/test_support.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "mlspeed/core/files.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

extern char** environ;

namespace mlspeed::testing {

std::string mlspeed_exe() {
  const char* exe = std::getenv("MLSPEED_EXE");
  if (!exe || !*exe) throw std::runtime_error("MLSPEED_EXE is not set; run the tests through ctest");
  return exe;
}

namespace {
std::vector<std::string> program_and(const std::string& program, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {program};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}
}  // namespace

Child::Child(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
             const std::string& stdout_path)
    : Child(program_and(mlspeed_exe(), args), env, stdout_path, 0) {}

std::unique_ptr<Child> Child::of_program(const std::string& program, const std::vector<std::string>& args,
                                         const std::map<std::string, std::string>& env) {
  return std::unique_ptr<Child>(new Child(program_and(program, args), env, "", 0));
}

Child::Child(std::vector<std::string> argv_storage, const std::map<std::string, std::string>& env,
             const std::string& stdout_path, int) {
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_storage;
  for (const auto& [k, v] : merged) env_storage.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdout_path.empty()) posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  else posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  if (!stdout_path.empty()) close_stdout();  // nothing comes through the pipe
  if (rc != 0) throw std::runtime_error("cannot start " + argv_storage[0] + ": " + std::strerror(rc));
}

Child::~Child() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

void Child::signal(int signo) { kill(pid_, signo); }

void Child::close_stdout() {
  if (out_fd_ >= 0) close(out_fd_);
  out_fd_ = -1;
}

CliResult Child::wait() {
  CliResult result;
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_streams = (out_fd_ >= 0) + (err_fd_ >= 0);  // poll skips a closed one (fd -1)
  char buf[4096];
  while (open_streams > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        fds[i].fd = -1;
        --open_streams;
      }
    }
  }
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

CliResult run_cli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  Child child(args, env);
  return child.wait();
}

CliResult run_cli_to(const std::string& stdout_path, const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env) {
  Child child(args, env, stdout_path);
  return child.wait();
}

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/mlspeed-test-XXXXXX";
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  ::chmod(path_.c_str(), 0700);  // a test may have made it read-only
  remove_tree(path_);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

int64_t count_table_rows(const std::string& db, const std::string& table) {
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(handle);
    return -1;
  }
  // The program under test may be writing: wait for its lock rather than read "busy" as no rows.
  sqlite3_busy_timeout(handle, 10000);
  sqlite3_stmt* stmt = nullptr;
  int64_t n = -1;
  const std::string sql = "SELECT count(*) FROM \"" + table + "\"";
  if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
    n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return n;
}

void raw_sql(const std::string& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  if (sqlite3_open(db.c_str(), &handle) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db << ": " << sqlite3_errmsg(handle);
    sqlite3_close(handle);
    return;
  }
  char* error = nullptr;
  if (sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK)
    ADD_FAILURE() << (error ? error : "") << " in: " << sql;
  sqlite3_free(error);
  sqlite3_close(handle);
}

}  // namespace mlspeed::testing
