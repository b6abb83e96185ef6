//! The `hazard-tracker` binary: parses the command line and hands over.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let cli = hazard_tracker::cli::Cli::parse();
    match hazard_tracker::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
