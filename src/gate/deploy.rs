//! Deploys, releases and infrastructure changes: things that act beyond the repository.

use super::argv::Argv;
use super::commands::Hit;

/// Options (of kubectl, helm, docker, …) whose value is the next word.
const WITH_ARG: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--cluster",
    "--kubeconfig",
    "--server",
    "--user",
    "--token",
    "-f",
    "--filename",
    "-C",
    "--directory",
    "--project",
    "--region",
    "--profile",
    "--config",
    "--cwd",
];

/// The operands of `args` (options and their values left out).
fn operands(args: &[String]) -> Vec<&str> {
    let mut out = Vec::new();
    let mut k = 0;
    while let Some(x) = args.get(k) {
        k += 1;
        if WITH_ARG.contains(&x.as_str()) {
            k += 1;
        } else if !x.starts_with('-') {
            out.push(x.as_str());
        }
    }
    out
}

/// The rule a deploy-like command trips, if any.
pub fn check(a: &Argv) -> Option<Hit> {
    let p = a.program();
    let args = a.args();
    // A dry run shows what would happen and changes nothing.
    if args
        .iter()
        .any(|x| x == "--dry-run" || x == "--dryrun" || x.starts_with("--dry-run="))
    {
        return None;
    }
    let ops = operands(args);
    let first = ops.first().copied().unwrap_or("");
    let second = ops.get(1).copied().unwrap_or("");
    let one_of = |x: &str, set: &[&str]| set.contains(&x);
    let deploy = match p {
        "wrangler" => {
            one_of(
                first,
                &["deploy", "publish", "secret", "rollback", "delete"],
            ) || (one_of(first, &["pages", "versions"])
                && one_of(second, &["deploy", "publish", "secret"]))
        }
        "npm" | "pnpm" | "yarn" | "bun" => {
            first == "publish"
                || (first == "npm" && second == "publish")
                || (one_of(first, &["run", "run-script"]) && second.starts_with("deploy"))
                || (p != "npm" && first.starts_with("deploy"))
        }
        "cargo" | "poetry" | "uv" | "flit" | "hatch" => first == "publish",
        "twine" => first == "upload",
        "gem" => first == "push",
        "mvn" | "gradle" | "gradlew" => one_of(first, &["deploy", "publish"]),
        "kubectl" | "oc" => one_of(
            first,
            &[
                "apply", "create", "delete", "replace", "patch", "rollout", "scale", "edit", "set",
                "drain",
            ],
        ),
        "helm" => one_of(
            first,
            &["install", "upgrade", "uninstall", "delete", "rollback"],
        ),
        "terraform" | "tofu" | "terragrunt" => {
            one_of(first, &["apply", "destroy", "import", "taint"])
        }
        "pulumi" => one_of(first, &["up", "destroy", "update"]),
        "cdk" => one_of(first, &["deploy", "destroy"]),
        "serverless" | "sls" => one_of(first, &["deploy", "remove"]),
        "vercel" => {
            ops.is_empty()
                || one_of(
                    first,
                    &["deploy", "promote", "rollback", "redeploy", "alias"],
                )
                || args.iter().any(|x| x == "--prod")
        }
        "netlify" | "firebase" | "fly" | "flyctl" | "eb" | "kamal" => first == "deploy",
        "railway" => one_of(first, &["up", "deploy"]),
        "gcloud" | "cap" => ops.contains(&"deploy"),
        "supabase" => ops.contains(&"deploy") || (first == "db" && second == "push"),
        "aws" => ops.contains(&"deploy") || (first == "s3" && one_of(second, &["rm", "rb"])),
        "docker" | "podman" => first == "push",
        "make" | "just" => ops
            .iter()
            .any(|t| t.starts_with("deploy") || t.starts_with("publish")),
        "gh" => (first == "pr" && second == "merge") || (first == "release" && second == "create"),
        _ => false,
    };
    deploy.then(|| {
        (
            "deploy",
            format!(
                "`{p}` here deploys, publishes or changes infrastructure, which is for a person \
                 to run; commit the change and say in the commit message what needs deploying"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::argv::effective;
    use crate::gate::shell::parse;

    fn deploys(src: &str) -> bool {
        let c = parse(src).expect("parses");
        check(&effective(&c[0].words)).is_some()
    }

    #[test]
    fn deploy_commands() {
        for d in [
            "wrangler deploy",
            "npx wrangler secret put API_KEY",
            "npm run deploy",
            "pnpm run deploy:prod",
            "kubectl -n prod apply -f k8s/",
            "terraform -chdir=infra apply -auto-approve",
            "vercel --prod",
            "gcloud run deploy api --source .",
            "make deploy",
            "cargo publish",
        ] {
            assert!(deploys(d), "{d}");
        }
        for ok in [
            "wrangler dev",
            "npm run build",
            "kubectl get pods -n prod",
            "terraform plan",
            "cargo build --release",
            "make test",
            "vercel dev",
            "docker build -t app .",
        ] {
            assert!(!deploys(ok), "{ok}");
        }
    }

    #[test]
    fn dry_runs_change_nothing() {
        for ok in [
            "npm publish --dry-run",
            "cargo publish --dry-run",
            "kubectl apply -f k8s/ --dry-run=client",
            "helm upgrade --install api ./chart --dry-run",
            "wrangler deploy --dry-run",
        ] {
            assert!(!deploys(ok), "{ok}");
        }
        // A flag that only looks like one is no dry run.
        assert!(deploys("npm publish --dry-run-later"));
        assert!(deploys("npm publish dry-run"));
    }
}
