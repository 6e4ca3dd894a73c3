//! The `flightdeck` binary only boots; everything lives in the library so tests can reuse it.

fn main() -> std::process::ExitCode {
    flightdeck::memory::return_large_buffers_to_os();
    flightdeck::cli::main()
}
