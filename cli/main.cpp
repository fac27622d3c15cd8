// vane's entry point: everything happens in the CLI.
#include "cli/command_line.hpp"

int main(int argc, char** argv) { return vane::cli::run_cli(argc, argv); }
