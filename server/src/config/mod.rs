//! Command line and environment. Every setting can come from a `FLIGHTDECK_*` variable; values are
//! read as text and checked together by [`ServeArgs::validate`], so a misconfigured start reports
//! every problem at once instead of one per restart.
//!
//! - `commands`: the command-line grammar (clap): subcommands and their flags and variables;
//! - `settings`: what a checked configuration is, as the server uses it;
//! - `validate`: from the one to the other, every problem reported at once.

mod commands;
mod settings;
mod validate;

pub use commands::*;
pub use settings::*;
