#include <iostream>

#include "commands.h"

namespace torchless::cli {

int report(const Error& e) {
  std::cerr << "torchless: error [" << code_name(e.code()) << "]: " << e.to_string() << "\n";
  return 1;
}

}  // namespace torchless::cli
