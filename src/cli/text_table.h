// TextTable: rows of text cells printed in aligned columns, for the operator commands'
// human-readable output. Columns are as wide as their widest cell (measured in bytes, so
// keep cells ASCII); numeric columns are right-aligned. A value type; thread-compatible.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace strand::cli {

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string title;  // printed as the first row unless every title is empty
    Align align = Align::kLeft;
  };

  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

  // Adds a row; missing trailing cells print empty, extra cells are ignored.
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  size_t num_rows() const { return rows_.size(); }

  // Prints the title row (if any) and every row, each line starting with `indent` and
  // columns separated by two spaces, without trailing blanks.
  void Print(std::ostream& out, const std::string& indent = "") const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace strand::cli
