use clap::Parser;

fn main() {
    let cli = brl::cli::Cli::parse();
    match brl::cmd::dispatch(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}
