// What every command that produces rows shares (run and verify; the commands that compare stored
// runs are next): the run's context, the printer, the database with its retries of refused rows,
// Ctrl-C, the progress line, the closing messages and the exit status. A command plans, then
//
//   RunSession<Row> session(setup, capture_context(command_line, devices), printer, is_failure);
//   session.begin();                                      // header printed, run stored, Ctrl-C caught
//   ... session.add(row) for each row as it completes, until session.stop_requested() ...
//   return session.finish(RunEnd::complete);              // footer, what was stored, exit status
//
// A run whose database refuses rows loses none: each is kept and retried (results/row_store.h), and
// any still not stored at the end is named on stderr and makes the exit status 1. A run whose
// standard output fails (a full disk, a reader that closed the pipe: `run -o jsonl | head -1`)
// stops as after Ctrl-C, keeping what it stored; its closing line says why, and the status is 1.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/core/live_line.h"
#include "mlspeed/core/standard_output.h"
#include "mlspeed/device/device.h"
#include "mlspeed/results/context.h"
#include "mlspeed/results/database.h"
#include "mlspeed/results/row_printer.h"
#include "mlspeed/results/row_store.h"
#include "mlspeed/results/row_table.h"
#include "mlspeed/session/interrupt.h"

namespace mlspeed {

// When, the command line, the host, the devices and the precision flags in force.
RunContext capture_context(const std::string& command_line, const std::vector<DeviceFacts>& devices);

struct SessionSetup {
  std::string program;        // "mlspeed run": begins every message of the session
  bool store = true;          // false: --no-db
  std::string db_path;        // empty: Database::default_path()
  const char* stopping_after = "the current step";  // a string literal: "stopping after ..." on Ctrl-C
  int64_t planned = 0;        // how many units the plan holds; 0 when not known in advance
  std::string planned_unit;   // what the plan counts: "configurations", "checks"
  std::string label;          // `--label TEXT`, stored with the run; empty for none
};

// complete: the whole plan ran. interrupted: Ctrl-C or SIGTERM. stopped: an input file turned out
// bad mid-run (every later row would fail the same way).
enum class RunEnd { complete, interrupted, stopped };
std::string_view name(RunEnd end);

// The closing messages, shared by every row type (run_session.cpp).
struct StoreReport {
  std::string program, path, noun;  // noun: "result"
  int64_t run_id = 0, rows = 0, stored = 0, refusals = 0, planned = 0;
  std::string planned_unit, last_error, finish_error;
  std::string output_error;  // why standard output could not be written; empty when it could
  std::string label;  // the run's `--label`, named beside its id
  std::vector<std::string> unstored;  // one description per row never stored
  bool store = true;
};
void print_closing(std::ostream& err, const StoreReport& report, RunEnd end);

// The results database at `path` (empty: the default), opened to store a session's rows; a file
// that cannot be used is refused with the session's way out too (--no-db).
std::unique_ptr<Database> open_session_database(const std::string& path);

template <class Row> class RunSession {
 public:
  // Opens the database first: one that cannot be used is bad input (UsageError) before anything
  // is printed or run.
  RunSession(SessionSetup setup, RunContext context, std::unique_ptr<RowPrinter<Row>> printer,
             std::function<bool(const Row&)> is_failure)
      : setup_(std::move(setup)),
        context_(std::move(context)),
        printer_(std::move(printer)),
        is_failure_(std::move(is_failure)),
        store_([this](Row& row) { store_row(*db_, run_id_, row); }) {
    if (setup_.store) db_ = open_session_database(setup_.db_path);
  }

  void begin() {
    printer_->header(context_);
    if (db_) run_id_ = begin_run<Row>(*db_, context_, setup_.label);
    interrupt_.emplace(setup_.stopping_after);
    check_output();
  }

  // A completed row: stored (kept and retried if the database refuses it), printed, kept.
  void add(Row row) {
    failures_ += is_failure_(row) ? 1 : 0;
    if (db_) {
      row.run_id = run_id_;
      store_.add(row);  // a copy, kept and retried if the database refuses it
    }
    LiveLine::on_stderr().clear();
    printer_->row(row);
    rows_.push_back(std::move(row));
    check_output();
  }

  bool stop_requested() const { return InterruptScope::requested(); }
  const std::atomic<bool>& stop_flag() const { return InterruptScope::flag(); }

  // Ends the run and returns the exit status: 2 stopped on a bad input file, 1 when standard output
  // failed, 130 interrupted, 1 when a row failed or could not be stored, else 0.
  int finish(RunEnd end) {
    interrupt_.reset();
    LiveLine::on_stderr().clear();
    std::string finish_error;
    if (db_) {
      store_.flush();
      try {
        db_->finish_run(run_id_, name(end));
      } catch (const std::exception& e) {
        finish_error = e.what();
      }
    }
    printer_->footer(end == RunEnd::complete);
    if (output_error_.empty()) output_error_ = stdout_failure();
    print_closing(std::cerr, report(finish_error), end);
    if (!output_error_.empty()) mark_stdout_failure_told();
    if (end == RunEnd::stopped) return 2;
    if (!output_error_.empty()) return 1;
    if (end == RunEnd::interrupted) return 130;
    return failures_ > 0 || !store_.pending().empty() ? 1 : 0;
  }

  const std::vector<Row>& rows() const { return rows_; }
  int64_t failures() const { return failures_; }
  int64_t run_id() const { return run_id_; }
  const RunContext& context() const { return context_; }

 private:
  // Flushes what was printed; when it cannot be written, the run stops as after Ctrl-C: nothing
  // more it measures could be shown, and what it stored is kept.
  void check_output() {
    if (!output_error_.empty()) return;
    output_error_ = stdout_failure();
    if (!output_error_.empty()) InterruptScope::request();
  }

  StoreReport report(const std::string& finish_error) const {
    StoreReport r;
    r.program = setup_.program;
    r.path = db_ ? db_->path() : "";
    r.noun = RowType<Row>::noun;
    r.run_id = run_id_;
    r.rows = static_cast<int64_t>(rows_.size());
    r.stored = store_.stored();
    r.refusals = store_.refusals();
    r.planned = setup_.planned;
    r.planned_unit = setup_.planned_unit;
    r.last_error = store_.last_error();
    r.finish_error = finish_error;
    r.output_error = output_error_;
    r.label = setup_.label;
    for (const Row& row : store_.pending()) r.unstored.push_back(RowType<Row>::describe(row));
    r.store = db_ != nullptr;
    return r;
  }

  SessionSetup setup_;
  RunContext context_;
  std::unique_ptr<RowPrinter<Row>> printer_;
  std::function<bool(const Row&)> is_failure_;
  std::unique_ptr<Database> db_;
  RowStore<Row> store_;
  std::optional<InterruptScope> interrupt_;
  std::vector<Row> rows_;
  int64_t run_id_ = 0, failures_ = 0;
  std::string output_error_;  // why standard output failed, once it has
};

}  // namespace mlspeed
