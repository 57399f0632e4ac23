//! The `crm` binary.

use std::process::ExitCode;

use clap::Parser;
use crm_server::cli::{Cli, Command, UserCommand};
use crm_server::{serve, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let outcome = match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Migrate(args) => serve::open_database(&args).map(drop),
        Command::User(UserCommand::Create(args)) => serve::create_user(args),
        Command::Openapi => {
            print!(
                "{}",
                crm_http::openapi::to_json(&crm_http::openapi::document())
            );
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
