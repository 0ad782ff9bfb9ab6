// Helpers for tests that drive the built `mlspeed` program as a user would: real arguments,
// real exit status, stdout and stderr captured separately, signals delivered.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlspeed::testing {

struct CliResult {
  int exit_code = -1;  // 128 + signal number if it was killed
  std::string out;
  std::string err;
};

// Path of the program under test (CTest sets MLSPEED_EXE).
std::string mlspeed_exe();

// A running `mlspeed` process.
class Child {
 public:
  // `env` entries are added to (or replace) the test's environment. With `stdout_path` the
  // program's standard output is that file, opened for writing as a shell's `>` would (/dev/full),
  // instead of a pipe to this test.
  Child(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
        const std::string& stdout_path = "");
  // Another program than mlspeed (a test binary running itself as a worker).
  static std::unique_ptr<Child> of_program(const std::string& program, const std::vector<std::string>& args,
                                           const std::map<std::string, std::string>& env = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  void signal(int signo);
  // Closes this end of the program's standard output, as a reader that stopped early (`| head -1`)
  // does: the program's next write to it fails.
  void close_stdout();
  CliResult wait();  // reads the streams still open to the end, then reaps

 private:
  Child(std::vector<std::string> argv, const std::map<std::string, std::string>& env, const std::string& stdout_path,
        int /*tag: argv[0] is the program*/);
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
};

CliResult run_cli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});
// run_cli with the program's standard output written to `stdout_path` (`out` stays empty).
CliResult run_cli_to(const std::string& stdout_path, const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env = {});

// A fresh directory removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path);
// The rows of `table` in the SQLite file `db`, read-only while another process writes it; -1 when
// the file or the table cannot be read (yet).
int64_t count_table_rows(const std::string& db, const std::string& table);
void write_file(const std::string& path, const std::string& content);
// Runs `sql` on the SQLite file `db` directly, as another program (or an older mlspeed) would; a
// failure is a test failure naming the statement.
void raw_sql(const std::string& db, const std::string& sql);

}  // namespace mlspeed::testing
