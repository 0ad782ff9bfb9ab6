#include <exception>
#include <iostream>

#include "cli/app.h"

int main(int argc, char** argv) {
  try {
    return mlspeed::cli::run_app(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mlspeed: " << e.what() << "\n";
    return 1;
  }
}
