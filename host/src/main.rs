//! The `ccr` binary: everything lives in [`ccr::cli`].

fn main() -> std::process::ExitCode {
    // `RUST_BACKTRACE=1` (common in developer shells and CI) also makes every error value
    // capture a backtrace, and wasmtime builds one internally each time a plugin store is
    // dropped, i.e. on every request (~2% of the CPU of a request). Panics keep their
    // backtraces (they follow RUST_BACKTRACE); only error values stop capturing, unless
    // RUST_LIB_BACKTRACE asks for them. Set before any thread exists.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    ccr::cli::main()
}
