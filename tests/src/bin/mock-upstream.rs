//! `mock-upstream`: the [`ccr_tests::MockUpstream`] as a standalone process, for load
//! benchmarks and manual testing.
//!
//! ```text
//! mock-upstream [--port N] [--print-port] [--static] [--slow-stream EVENTS,INTERVAL_MS]
//!               [--record] [--threads N]
//! ```
//!
//! - `--port N`: port on 127.0.0.1 (default 0 = a free one).
//! - `--print-port`: print the chosen port alone on stdout's first line (then flush).
//! - `--static`: answer every OpenAI chat completion with the precomputed static answer.
//! - `--slow-stream EVENTS,INTERVAL_MS` (implies `--static`): answer every streamed OpenAI
//!   chat completion with exactly EVENTS `chat.completion.chunk` events INTERVAL_MS apart
//!   (e.g. `50,200`: a model thinking for about 10 s); non-streaming ones as `--static` does.
//! - `--record`: keep every request in memory (off by default: nothing can read them here).
//! - `--threads N`: tokio worker threads (default 1).
//!
//! Serves both wires (`/v1/chat/completions` and `/v1/messages`), over HTTP/1.1 and h2c
//! (HTTP/2 prior knowledge) on the same port, until killed.

use ccr_tests::mock::SlowStream;
use ccr_tests::{MockOptions, MockUpstream};
use std::io::Write;

fn main() {
    let mut options = MockOptions {
        record: false,
        ..MockOptions::default()
    };
    let mut print_port = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => options.port = number(args.next(), "--port"),
            "--threads" => options.worker_threads = number(args.next(), "--threads"),
            "--print-port" => print_port = true,
            "--static" => options.static_responses = true,
            "--slow-stream" => {
                let pace = args.next().as_deref().and_then(SlowStream::parse);
                let Some(pace) = pace else {
                    eprintln!(
                        "mock-upstream: --slow-stream needs EVENTS,INTERVAL_MS (e.g. 50,200)"
                    );
                    std::process::exit(2);
                };
                options.static_responses = true;
                options.slow_stream = Some(pace);
            }
            "--record" => options.record = true,
            "-h" | "--help" => {
                println!(
                    "usage: mock-upstream [--port N] [--print-port] [--static] \
                     [--slow-stream EVENTS,INTERVAL_MS] [--record] [--threads N]"
                );
                return;
            }
            other => {
                eprintln!("mock-upstream: unknown argument {other:?} (try --help)");
                std::process::exit(2);
            }
        }
    }
    let mock = MockUpstream::start_with(options);
    if print_port {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", mock.port());
        let _ = stdout.flush();
    }
    eprintln!("mock-upstream: listening on {}", mock.base_url());
    loop {
        std::thread::park();
    }
}

fn number<T: std::str::FromStr>(value: Option<String>, flag: &str) -> T {
    match value.as_deref().map(str::parse) {
        Some(Ok(n)) => n,
        _ => {
            eprintln!("mock-upstream: {flag} needs a number");
            std::process::exit(2);
        }
    }
}
