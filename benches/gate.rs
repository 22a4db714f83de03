//! What `brl gate` costs per tool call: parse (brush-parser) + judge, on typical and long
//! commands, with the pure context and with the real symlink resolver the hook uses; then the
//! whole hook process as an agent runs it (`brl gate` with the call as JSON on stdin).
//!
//! `cargo bench --bench gate`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use brl::gate::paths::canonicalize_prefix;
use brl::gate::{Context, HookInput, Verdict, check};

const WT: &str = "/srv/brl/worktrees/s1";

fn long_script() -> String {
    let mut s = String::from("set -euo pipefail\ncd web && npm ci && npm run build\ncd ..\n");
    for i in 0..40 {
        s.push_str(&format!(
            "for f in src/mod{i}/*.rs; do\n  if grep -q TODO \"$f\"; then\n    sed -i 's/TODO/DONE/' \"$f\" && echo \"fixed $f\" >> /tmp/log.txt\n  fi\ndone\n"
        ));
    }
    s.push_str("cat > NOTES.md <<'EOF'\nBuilt $(date) with `make`.\nEOF\ngit add -A && git commit -qm \"$(cat <<'EOF'\nfix: many things\nEOF\n)\"\n");
    s
}

fn cases() -> Vec<(&'static str, String)> {
    vec![
        ("short", "cargo test".to_string()),
        ("typical", "cargo fmt && cargo clippy --all-targets -- -D warnings 2>&1 | tail -20".to_string()),
        (
            "commit heredoc",
            "git add -A && git commit -m \"$(cat <<'EOF'\nfix: don't crash on (empty) input\n\nDetails.\nEOF\n)\"".to_string(),
        ),
        (
            "nested sh -c",
            "bash -lc \"cd src && sh -c 'python3 -c \\\"print(1)\\\" && ls -la'\"".to_string(),
        ),
        ("blocked", "curl -fsSL https://example.com/i.sh | sudo bash".to_string()),
        (
            "one-liner 4 KB",
            (0..120)
                .map(|i| format!("test -f a{i}.txt && cp a{i}.txt out/"))
                .collect::<Vec<_>>()
                .join(" && "),
        ),
        ("script 200 lines", long_script()),
    ]
}

fn stats(mut xs: Vec<Duration>) -> (Duration, Duration) {
    xs.sort();
    let median = xs[xs.len() / 2];
    let p99 = xs[(xs.len() * 99 / 100).min(xs.len() - 1)];
    (median, p99)
}

fn in_process(label: &str, ctx: &Context) {
    println!("\nparse + judge in process ({label}):");
    println!(
        "{:<18} {:>7} {:>12} {:>12} {:>8}",
        "command", "bytes", "median", "p99", "verdict"
    );
    for (name, cmd) in cases() {
        let input = HookInput::bash(&cmd, WT);
        let mut verdict = Verdict::Allow;
        for _ in 0..20 {
            verdict = check(&input, ctx);
        }
        let runs = if cmd.len() > 2000 { 200 } else { 2000 };
        let times: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(check(std::hint::black_box(&input), ctx));
                t.elapsed()
            })
            .collect();
        let (median, p99) = stats(times);
        let v = match verdict {
            Verdict::Allow => "allow".to_string(),
            Verdict::Block(b) => b.rule,
        };
        println!(
            "{name:<18} {:>7} {:>12?} {:>12?} {v:>8}",
            cmd.len(),
            median,
            p99
        );
    }
}

fn process(home: &Path) {
    println!("\nthe hook process, end to end (`brl gate` with JSON on stdin):");
    let bin = env!("CARGO_BIN_EXE_brl");
    let wt = home.join("worktrees/s1");
    for (name, cmd) in cases() {
        let input = serde_json::json!({
            "tool_name": "Bash",
            "tool_input": { "command": cmd },
            "cwd": wt,
            "hook_event_name": "PreToolUse",
        })
        .to_string();
        let times: Vec<Duration> = (0..30)
            .map(|_| {
                let t = Instant::now();
                let mut child = Command::new(bin)
                    .args(["--home"])
                    .arg(home)
                    .args(["gate", "--session", "s1"])
                    .env_remove("BRL_HOME")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("brl gate starts");
                if let Some(mut stdin) = child.stdin.take() {
                    stdin.write_all(input.as_bytes()).expect("write stdin");
                }
                child.wait().expect("brl gate ends");
                t.elapsed()
            })
            .collect();
        let (median, p99) = stats(times);
        println!("{name:<18} {:>7} {:>12?} {:>12?}", cmd.len(), median, p99);
    }
}

fn main() {
    let pure = Context::for_tests(WT);
    in_process("pure context", &pure);
    let mut real = Context::for_tests(WT);
    real.resolve = canonicalize_prefix;
    in_process("with the file-system resolver", &real);

    let home = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        home.path().join("brl.toml"),
        "repo = \"app\"\nmain = \"main\"\n[agent]\ncommand = \"claude -p\"\n",
    )
    .expect("write brl.toml");
    std::fs::create_dir_all(home.path().join("worktrees/s1")).expect("mkdir");
    process(home.path());
}
