#include "mlspeed/results/fields.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>

#include "testing/results_test_rows.h"

namespace mlspeed {
namespace {

using testing::failed_row;
using testing::full_row;

TEST(Fields, NamesAreUniqueAndFindable) {
  std::set<std::string> names;
  for (const Field& f : result_fields()) {
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate field " << f.name;
    EXPECT_EQ(find_field(f.name), &f);
    EXPECT_FALSE(f.help.empty()) << f.name;
  }
  EXPECT_EQ(find_field("no_such_field"), nullptr);
}

// Guards the test rows: a field added to the list but not to full_row() would go untested.
TEST(Fields, FullRowSetsEveryFieldAwayFromItsDefault) {
  const Result defaults;
  const Result full = full_row();
  for (const Field& f : result_fields())
    EXPECT_FALSE(f.get(full) == f.get(defaults)) << f.name << " still has its default in full_row()";
}

TEST(Fields, GetThenSetRestoresEveryField) {
  for (const Result& row : {full_row(), failed_row()}) {
    for (const Field& f : result_fields()) {
      Result copy;
      f.set(copy, f.get(row));
      EXPECT_TRUE(f.get(copy) == f.get(row)) << f.name;
    }
  }
}

TEST(Fields, TextRoundTripRestoresEveryField) {
  for (const Result& row : {full_row(), failed_row()}) {
    for (const Field& f : result_fields()) {
      const std::string text = value_to_text(f.get(row));
      Result copy;
      const Value back = value_from_text(f.type, text);
      if (!std::holds_alternative<std::monostate>(back)) f.set(copy, back);
      EXPECT_TRUE(f.get(copy) == f.get(row)) << f.name << " via '" << text << "'";
    }
  }
}

TEST(Fields, TextRoundTripForEveryType) {
  const std::vector<std::pair<FieldType, Value>> cases = {
      {FieldType::boolean, true},
      {FieldType::boolean, false},
      {FieldType::integer, int64_t{-42}},
      {FieldType::integer, std::numeric_limits<int64_t>::max()},
      {FieldType::real, 0.1 + 0.2},
      {FieldType::real, -2.5e300},
      {FieldType::real, 1e-300},
      {FieldType::real, 4e-320},  // subnormal: strtod sets ERANGE, but the value is exact
      {FieldType::text, std::string("a, \"b\"\nc")},
      {FieldType::text, std::string()},
      {FieldType::real_list, std::vector<double>{0.1, 2, 1e-10, 1.0 / 3}},
      {FieldType::real_list, std::vector<double>{7}},
  };
  for (const auto& [type, value] : cases) {
    const std::string text = value_to_text(value);
    EXPECT_TRUE(value_from_text(type, text) == value) << "'" << text << "'";
  }
  // Unknown is the empty cell for every type but text, where empty is the empty string.
  EXPECT_EQ(value_to_text(Value{}), "");
  for (FieldType type : {FieldType::boolean, FieldType::integer, FieldType::real, FieldType::real_list})
    EXPECT_TRUE(std::holds_alternative<std::monostate>(value_from_text(type, "")));
}

TEST(Fields, MalformedTextIsRejected) {
  EXPECT_THROW(value_from_text(FieldType::boolean, "yes"), std::invalid_argument);
  EXPECT_THROW(value_from_text(FieldType::integer, "12x"), std::invalid_argument);
  EXPECT_THROW(value_from_text(FieldType::real, "fast"), std::invalid_argument);
  EXPECT_THROW(value_from_text(FieldType::real, "1e999"), std::invalid_argument);  // overflow
  EXPECT_THROW(value_from_text(FieldType::real_list, "1 two 3"), std::invalid_argument);
}

TEST(Fields, SetRejectsValuesOfTheWrongKind) {
  Result r;
  EXPECT_THROW(find_field("batch")->set(r, std::string("eight")), std::invalid_argument);
  EXPECT_THROW(find_field("dtype")->set(r, std::string("fp64")), std::invalid_argument);
  EXPECT_THROW(find_field("status")->set(r, std::string("fine")), std::invalid_argument);
  EXPECT_THROW(find_field("tf32")->set(r, int64_t{1}), std::invalid_argument);
}

// The message of a refused enum value lists the values the enum has, spelled by name(): a
// precision added to the enum is offered without anyone editing the message.
TEST(Fields, RefusedEnumValueNamesEveryChoice) {
  Result r;
  try {
    find_field("dtype")->set(r, std::string("fp64"));
    FAIL() << "fp64 was accepted";
  } catch (const std::invalid_argument& e) {
    for (Precision p : kAllPrecisions) EXPECT_NE(std::string(e.what()).find(name(p)), std::string::npos) << e.what();
  }
}

// Every value of every enum a field holds is stored by its name and read back as itself.
TEST(Fields, EveryEnumValueRoundTripsThroughItsName) {
  Result r;
  for (Precision p : kAllPrecisions) {
    find_field("dtype")->set(r, std::string(name(p)));
    EXPECT_EQ(r.precision, p);
  }
  for (Status s : kAllStatuses) {
    find_field("status")->set(r, std::string(name(s)));
    EXPECT_EQ(r.status, s);
  }
  for (GraphUse g : kAllGraphUses) EXPECT_EQ(parse_graph_use(name(g)), g);
  for (Job j : kAllJobs) EXPECT_EQ(parse_job(name(j)), j);
}

}  // namespace
}  // namespace mlspeed
