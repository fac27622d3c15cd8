// vane's entry point: everything happens in the CLI.
#include "proxy/cli.hpp"

int main(int argc, char** argv) { return vane::proxy::run_cli(argc, argv); }
