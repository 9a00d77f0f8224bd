// Subcommands of `strata`. Each register_* adds one subcommand whose callback runs it and stores its exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace strata::cli {

void register_inspect_command(CLI::App& app, int& exit_code);
void register_tokenize_command(CLI::App& app, int& exit_code);
void register_run_command(CLI::App& app, int& exit_code);
void register_gguf_command(CLI::App& app, int& exit_code);
void register_perplexity_command(CLI::App& app, int& exit_code);
void register_bench_command(CLI::App& app, int& exit_code);
void register_serve_command(CLI::App& app, int& exit_code);

}  // namespace strata::cli
