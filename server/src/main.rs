//! The `flightdeck` binary only boots; everything lives in the library so tests can reuse it.

fn main() -> std::process::ExitCode {
    flightdeck::cli::main()
}
