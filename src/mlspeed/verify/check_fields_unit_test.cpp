#include "mlspeed/verify/check_fields.h"

#include <gtest/gtest.h>

#include <set>

#include "testing/check_test_rows.h"

namespace mlspeed::verify {
namespace {

using testing::check_row;
using testing::full_check;

TEST(CheckFields, NamesAreUniqueAndFindable) {
  std::set<std::string> names;
  for (const CheckField& f : check_fields()) {
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate field " << f.name;
    EXPECT_EQ(find_check_field(f.name), &f);
    EXPECT_FALSE(f.help.empty()) << f.name;
  }
  EXPECT_EQ(find_check_field("no_such_field"), nullptr);
}

// Guards the test row: a field added to the list but not to full_check() would go untested.
TEST(CheckFields, FullCheckSetsEveryFieldAwayFromItsDefault) {
  const CheckResult defaults;
  const CheckResult full = full_check();
  for (const CheckField& f : check_fields())
    EXPECT_FALSE(f.get(full) == f.get(defaults)) << f.name << " still has its default in full_check()";
}

TEST(CheckFields, TypesFollowTheMembers) {
  EXPECT_EQ(find_check_field("outcome")->type, FieldType::text);
  EXPECT_EQ(find_check_field("elements")->type, FieldType::integer);
  EXPECT_EQ(find_check_field("max_rel_error")->type, FieldType::real);
  EXPECT_EQ(find_check_field("reproducible")->type, FieldType::boolean);
  EXPECT_TRUE(find_check_field("outcome")->get(full_check()) == Value(std::string("fail")));
  EXPECT_TRUE(find_check_field("bug_class")->get(full_check()) == Value(std::string("layout")));
  EXPECT_TRUE(find_check_field("level")->get(full_check()) == Value(std::string("model")));
}

TEST(CheckFields, TextRoundTripRestoresEveryField) {
  for (const CheckResult& row : {full_check(), check_row("cpu", "softmax", Outcome::skipped, "no memory")}) {
    for (const CheckField& f : check_fields()) {
      const std::string text = value_to_text(f.get(row));
      CheckResult copy;
      const Value back = value_from_text(f.type, text);
      if (!std::holds_alternative<std::monostate>(back)) f.set(copy, back);
      EXPECT_TRUE(f.get(copy) == f.get(row)) << f.name << " via '" << text << "'";
    }
  }
}

TEST(CheckFields, UnknownFiguresStayUnknown) {
  const CheckResult row = check_row("cpu", "multinomial", Outcome::pass);
  for (const char* name : {"elements", "mismatch_fraction", "max_abs_error", "nan_output", "reproducible"})
    EXPECT_TRUE(std::holds_alternative<std::monostate>(find_check_field(name)->get(row))) << name;
}

TEST(CheckFields, SetRejectsValuesOfTheWrongKind) {
  CheckResult r;
  EXPECT_THROW(find_check_field("outcome")->set(r, std::string("fine")), std::invalid_argument);
  EXPECT_THROW(find_check_field("level")->set(r, std::string("kernel")), std::invalid_argument);
  EXPECT_THROW(find_check_field("bug_class")->set(r, std::string("cosmic-ray")), std::invalid_argument);
  EXPECT_THROW(find_check_field("elements")->set(r, std::string("many")), std::invalid_argument);
  EXPECT_THROW(find_check_field("reproducible")->set(r, int64_t{1}), std::invalid_argument);
}

}  // namespace
}  // namespace mlspeed::verify
