#include "mlspeed/compare/run_source.h"

#include <gtest/gtest.h>

#include "mlspeed/compare/run_file.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/row_table.h"
#include "testing/results_test_rows.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

// Three runs: 1 labelled "old", 2 labelled "driver 580", 3 unlabelled, each with one row.
class RunSource : public ::testing::Test {
 protected:
  void SetUp() override {
    Database db(path);
    for (const char* label : {"old", "driver 580", ""}) {
      const int64_t id = begin_run<Result>(db, testing::sample_context(), label);
      Result row = testing::full_row();
      row.batch = id;  // tells the runs' rows apart
      store_row(db, id, row);
      db.finish_run(id, "complete");
    }
  }

  std::string error_of(const std::string& spec, const std::string& db_path) {
    try {
      load_run(spec, db_path);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "no error";
  }

  testing::TempDir dir;
  std::string path = dir.file("r.db");
};

TEST_F(RunSource, IdsLastAndLabelsNameRunsOfTheDatabase) {
  const LoadedRun two = load_run("2", path);
  EXPECT_EQ(two.name, "run 2");
  EXPECT_EQ(two.run.id, 2);
  ASSERT_EQ(two.rows<Result>().size(), 1u);
  EXPECT_EQ(two.rows<Result>()[0].batch, 2);
  EXPECT_EQ(load_run("last", path).run.id, 3);
  EXPECT_EQ(load_run("last-2", path).run.id, 1);
  const LoadedRun labelled = load_run("label:driver 580", path);
  EXPECT_EQ(labelled.run.id, 2);
  EXPECT_EQ(labelled.name, "label:driver 580");
  EXPECT_FALSE(labelled.published());
}

TEST_F(RunSource, AFileIsReadAsARunFile) {
  LoadedRun run = load_run("1", path);
  const std::string file = dir.file("m3max.json");
  testing::write_file(file, write_run_file(run));
  const LoadedRun back = load_run(file, "");
  EXPECT_EQ(back.name, file);
  EXPECT_EQ(back.run.label, "old");
  ASSERT_EQ(back.rows<Result>().size(), 1u);
}

TEST_F(RunSource, ReferencesAreFoundByName) {
  const LoadedRun t4 = load_run("ref:bert-t4", "");
  EXPECT_TRUE(t4.published());
  EXPECT_EQ(t4.name, "ref:bert-t4");
}

TEST_F(RunSource, ErrorsSayWhatExists) {
  EXPECT_NE(error_of("9", path).find("its runs are 1 to 3"), std::string::npos) << error_of("9", path);
  EXPECT_NE(error_of("last-3", path).find("holds only 3 runs (last to last-2)"), std::string::npos);
  EXPECT_NE(error_of("last-x", path).find("not a run name"), std::string::npos);
  const std::string label = error_of("label:new", path);
  EXPECT_NE(label.find("labels there: driver 580, old"), std::string::npos) << label;
  const std::string ref = error_of("ref:bert-h100", path);
  EXPECT_NE(ref.find("bert-t4"), std::string::npos) << ref;
  EXPECT_NE(error_of("nothing-here.json", path).find("neither a run name nor an existing file"), std::string::npos);
  EXPECT_NE(error_of("1", dir.file("none.db")).find("there is none at"), std::string::npos);
  EXPECT_NE(error_of(dir.path(), path).find("folder"), std::string::npos) << error_of(dir.path(), path);
  testing::write_file(dir.file("bad.json"), "not json");
  EXPECT_NE(error_of(dir.file("bad.json"), path).find("cannot be read as a run"), std::string::npos);
}

// A run whose stored context is damaged is refused by name; every other run still loads.
TEST_F(RunSource, ARunWithADamagedContextIsRefusedAndHidesNoOther) {
  testing::raw_sql(path, "UPDATE runs SET context_json = 'not json' WHERE id = 2");
  EXPECT_EQ(load_run("last", path).run.id, 3);
  EXPECT_EQ(load_run("label:old", path).run.id, 1);
  EXPECT_EQ(load_run("1", path).run.id, 1);
  for (const char* spec : {"2", "last-1", "label:driver 580"}) {
    const std::string message = error_of(spec, path);
    EXPECT_NE(message.find("run 2"), std::string::npos) << spec << ": " << message;
    EXPECT_NE(message.find("context_json"), std::string::npos) << spec << ": " << message;
  }
}

}  // namespace
}  // namespace mlspeed
