// `strata`: the one binary users run. Each subcommand registers itself from its own file.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "coordinator/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Strata: serve GGUF language models on the GPUs and CPUs you have."};
  app.set_version_flag("--version", std::string("strata ") + STRATA_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  strata::cli::register_inspect_command(app, exit_code);
  strata::cli::register_tokenize_command(app, exit_code);
  strata::cli::register_run_command(app, exit_code);
  strata::cli::register_gguf_command(app, exit_code);
  strata::cli::register_perplexity_command(app, exit_code);
  strata::cli::register_bench_command(app, exit_code);
  strata::cli::register_serve_command(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
