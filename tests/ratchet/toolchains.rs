//! The real check tools, installed by `tests/toolchains.sh` into a cache under `target/` (never
//! assumed present): tsc and vitest from npm, pytest and mypy in a venv.

use std::path::Path;
use std::sync::OnceLock;

use super::bench::ROOT;

/// `[<node>:]<tools bin>:<venv bin>`: what goes in front of PATH for the checks to find the tools.
pub fn prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let out = std::process::Command::new("bash")
            .arg(Path::new(ROOT).join("tests/toolchains.sh"))
            .arg("--print-path")
            .output()
            .expect("bash runs tests/toolchains.sh");
        assert!(
            out.status.success(),
            "tests/toolchains.sh could not install the toolchains: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    })
}

/// The test process's PATH with the toolchains in front.
pub fn path() -> String {
    format!("{}:{}", prefix(), std::env::var("PATH").unwrap_or_default())
}

/// The venv holding pytest and mypy.
pub fn venv() -> std::path::PathBuf {
    let bin = prefix()
        .split(':')
        .find(|p| Path::new(p).join("mypy").is_file())
        .expect("the toolchains' PATH has a venv with mypy");
    Path::new(bin).parent().expect("venv dir").to_path_buf()
}

/// The test process's PATH without any directory holding `tools` (so they are not installed).
pub fn path_without(tools: &[&str]) -> String {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|d| !d.is_empty() && !tools.iter().any(|t| Path::new(d).join(t).exists()))
        .collect::<Vec<_>>()
        .join(":")
}

/// The npm package dir holding tsc and vitest (its package.json and package-lock.json).
pub fn node_dir() -> std::path::PathBuf {
    let bin = prefix()
        .split(':')
        .find(|p| p.ends_with("node_modules/.bin"))
        .expect("the toolchains' PATH has node_modules/.bin");
    Path::new(bin)
        .parent()
        .and_then(Path::parent)
        .expect("the package dir")
        .to_path_buf()
}

/// The test process's PATH with only the toolchains' node runtime (if they installed one) in
/// front: node and npm, but no tsc, vitest, pytest or mypy.
pub fn path_with_node_only() -> String {
    let node: Vec<&str> = prefix()
        .split(':')
        .filter(|p| Path::new(p).join("node").is_file())
        .collect();
    let mut all = node.join(":");
    if !all.is_empty() {
        all.push(':');
    }
    all + &path_without(&["tsc", "vitest"])
}
