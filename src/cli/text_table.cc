#include "cli/text_table.h"

#include <algorithm>

namespace strand::cli {

void TextTable::Print(std::ostream& out, const std::string& indent) const {
  const bool titled = std::any_of(columns_.begin(), columns_.end(),
                                  [](const Column& c) { return !c.title.empty(); });
  std::vector<size_t> width(columns_.size(), 0);
  auto measure = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < width.size() && i < cells.size(); ++i) {
      width[i] = std::max(width[i], cells[i].size());
    }
  };
  std::vector<std::string> titles;
  for (const Column& c : columns_) titles.push_back(c.title);
  if (titled) measure(titles);
  for (const auto& row : rows_) measure(row);

  auto print = [&](const std::vector<std::string>& cells) {
    std::string line = indent;
    for (size_t i = 0; i < columns_.size(); ++i) {
      const std::string empty;
      const std::string& cell = i < cells.size() ? cells[i] : empty;
      const std::string pad(width[i] - cell.size(), ' ');
      if (i > 0) line += "  ";
      line += columns_[i].align == Align::kRight ? pad + cell : cell + pad;
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  };
  if (titled) print(titles);
  for (const auto& row : rows_) print(row);
}

}  // namespace strand::cli
