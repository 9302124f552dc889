//! The `mailaudit` binary: parses the command line, calls the library's
//! command for it ([`mailaudit::command`]), and maps the outcome to the
//! documented exit codes (see `mailaudit --help`).

use clap::Parser;
use mailaudit::cli::{Cli, Command, RulesCommand};
use mailaudit::command::{self, history, offline, rules, scan, serve};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    command::init_logging(cli.verbose, cli.quiet);
    let outcome = match &cli.command {
        Command::Scan(args) => scan::run(args, cli.quiet),
        Command::Report(args) => offline::report(args, cli.quiet),
        Command::Evaluate(args) => offline::evaluate(args, cli.quiet),
        Command::Merge(args) => offline::merge(args, cli.quiet),
        Command::Rules {
            command: RulesCommand::List(source),
        } => rules::list(source),
        Command::Rules {
            command: RulesCommand::Check { dir },
        } => rules::check(dir),
        Command::History(args) => history::run(args, cli.quiet),
        Command::Serve(args) => serve::run(args, cli.quiet),
        Command::Schema => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let schema = mailaudit::report::schema::render();
            let _ = std::io::stdout().lock().write_all(schema.as_bytes());
            Ok(0)
        }
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("mailaudit: error: {}", error.chain());
            ExitCode::from(error.exit_code())
        }
    }
}
