//! The `ccr` binary: everything lives in [`ccr::cli`].

fn main() -> std::process::ExitCode {
    ccr::cli::main()
}
