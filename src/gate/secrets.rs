//! Commands that would print secrets into the transcript: the environment, variables named
//! like tokens and keys, `.env` files and keys, credential helpers.

use std::sync::LazyLock;

use regex::Regex;

use super::commands::{Cmd, Hit};

static SECRET_VAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$(\{[#!]?)?([A-Za-z_][A-Za-z0-9_]*)(:?\+)?").expect("a valid regex")
});

/// A variable name that holds a secret: `GITHUB_TOKEN`, `API_KEY`, `AWS_SECRET_ACCESS_KEY`,
/// `DB_PASSWORD`, `KEY` (not `$key` or `$MONKEY`).
pub fn is_secret_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "APIKEY",
        "PRIVATE_KEY",
    ]
    .iter()
    .any(|s| up.contains(s))
        || name.split('_').any(|part| part == "KEY" || part == "KEYS")
}

/// A word that expands a secret variable (`$TOKEN`, `${API_KEY}`, but not `${#TOKEN}` or
/// `${TOKEN:+set}`).
fn expands_secret(word: &str) -> bool {
    SECRET_VAR.captures_iter(word).any(|c| {
        let length_or_test = c.get(1).is_some_and(|m| m.as_str().len() > 1) || c.get(3).is_some();
        !length_or_test && is_secret_name(&c[2])
    })
}

/// A file that holds secrets: `.env` and `.env.*` (not `.env.example` and the like), keys,
/// credential files.
pub fn is_secret_file(path: &str) -> bool {
    let name = super::argv::base(path);
    if let Some(rest) = name.strip_prefix(".env") {
        let harmless = [
            "example", "sample", "template", "dist", "defaults", "schema",
        ];
        return rest.is_empty()
            || rest == "rc"
            || rest
                .strip_prefix('.')
                .is_some_and(|ext| !harmless.contains(&ext));
    }
    let exact = [
        ".netrc",
        ".pgpass",
        ".git-credentials",
        ".npmrc",
        ".pypirc",
        "credentials",
        "credentials.json",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
    ];
    let ext = [".pem", ".key", ".p12", ".pfx", ".keystore", ".jks"];
    exact.contains(&name)
        || ext.iter().any(|e| name.ends_with(e))
        || (name.starts_with("secrets.")
            && [".yml", ".yaml", ".json", ".toml", ".env"]
                .iter()
                .any(|e| name.ends_with(e)))
}

fn creds(what: &str) -> String {
    format!(
        "it prints {what} into the transcript; credentials stay out of the agent's output (use \
         them through the tool that needs them)"
    )
}

pub fn read_secret(path: &str) -> Hit {
    (
        "read-secret-file",
        format!(
            "`{path}` holds secrets and this would print them into the transcript; read \
             `.env.example` or the code that loads it instead"
        ),
    )
}

const READERS: &[&str] = &[
    "cat", "bat", "batcat", "less", "more", "most", "head", "tail", "nl", "tac", "od", "xxd",
    "hexdump", "strings", "base64", "grep", "egrep", "fgrep", "rg", "ag", "ack", "awk", "gawk",
    "sed", "cut", "sort", "uniq", "diff", "jq", "yq", "column", "fold", "paste", "view",
];

/// The rule a secret-printing command trips, if any.
pub fn check(c: &Cmd) -> Option<Hit> {
    let a = c.argv;
    let args = a.args();
    let print_env = || {
        Some((
            "print-env",
            "it prints the environment, secrets included, into the transcript; print only the \
             variable you need (`echo \"$PATH\"`), never a token or key"
                .to_string(),
        ))
    };
    let options_only = args.iter().all(|x| x.starts_with('-'));
    match a.program() {
        _ if a.bare_env => return print_env(),
        "printenv" if options_only || args.iter().any(|x| is_secret_name(x)) => {
            return print_env();
        }
        "export" if args.is_empty() || args.iter().all(|x| x == "-p") => return print_env(),
        "declare" | "typeset"
            if (options_only && args.iter().any(|x| x.contains(['p', 'x'])))
                || (args.iter().any(|x| x.starts_with('-') && x.contains('p'))
                    && args.iter().any(|x| is_secret_name(x))) =>
        {
            return print_env();
        }
        "set" if args.is_empty() => return print_env(),
        "echo" | "printf" | "print" | "cat" | "tee" => {
            let stdin = c
                .simple
                .stdin_text
                .iter()
                .filter(|_| c.simple.stdin_expands);
            if args.iter().chain(stdin).any(|x| expands_secret(x)) {
                return Some((
                    "print-secret-var",
                    "it prints a secret variable (a name with TOKEN, KEY, SECRET or PASSWORD) \
                     into the transcript; test it without printing it (`[ -n \"$X\" ]`, \
                     `echo ${#X}`)"
                        .into(),
                ));
            }
        }
        "gh" if args.first().is_some_and(|x| x == "auth")
            && args
                .iter()
                .any(|x| x == "token" || x == "--show-token" || x == "-t") =>
        {
            return Some(("print-credentials", creds("a GitHub token")));
        }
        "gcloud"
            if args
                .iter()
                .any(|x| x.starts_with("print-") && x.ends_with("-token")) =>
        {
            return Some(("print-credentials", creds("a Google Cloud token")));
        }
        "aws"
            if args.iter().any(|x| x == "configure")
                && args.iter().any(|x| x == "get" || x == "export-credentials") =>
        {
            return Some(("print-credentials", creds("AWS credentials")));
        }
        "heroku" if args.first().is_some_and(|x| x == "auth:token") => {
            return Some(("print-credentials", creds("a Heroku token")));
        }
        "kubectl"
            if args.iter().any(|x| x == "get" || x == "describe")
                && args.iter().any(|x| x.starts_with("secret")) =>
        {
            return Some(("print-credentials", creds("Kubernetes secrets")));
        }
        _ => {}
    }
    if READERS.contains(&a.program())
        && let Some(f) = args
            .iter()
            .find(|x| !x.starts_with('-') && is_secret_file(x))
    {
        return Some(read_secret(f));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_and_files() {
        for n in [
            "GITHUB_TOKEN",
            "API_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "DB_PASSWORD",
            "KEY",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "key",
            "MONKEY",
            "HOME",
            "PATH",
            "KEYBOARD_LAYOUT",
            "BRL_SESSION",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
        assert!(expands_secret("token=$GITHUB_TOKEN"));
        assert!(expands_secret("${API_KEY}"));
        assert!(!expands_secret("${#API_KEY}"));
        assert!(!expands_secret("${API_KEY:+set}"));
        assert!(!expands_secret("$HOME"));
        for f in [
            ".env",
            "./.env.local",
            "/app/.env.production",
            "id_rsa",
            "server.pem",
        ] {
            assert!(is_secret_file(f), "{f}");
        }
        for f in [
            ".env.example",
            "env.rs",
            ".envoy.yaml",
            "id_rsa.pub",
            "secrets.rs",
        ] {
            assert!(!is_secret_file(f), "{f}");
        }
    }
}
