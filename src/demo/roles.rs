//! The demo agent's answers for the periodic jobs' roles (review, standup, doctor, skill):
//! deterministic text derived from the prompt, so `brl demo` shows the jobs without an AI.

/// The answer for `role`, or `None` for a role the demo agent does not play (`ralph` is the
/// code-changing agent in `agent.rs`).
pub fn answer(role: &str, prompt: &str, session: Option<&str>) -> Option<String> {
    let who = session.unwrap_or("the team");
    Some(match role {
        "review" | "review-referee" => {
            // The demo's own rule: a change that fixes a line and breaks none is approved.
            let diff = prompt.split("```diff").nth(1).unwrap_or("");
            let added = diff.lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).count();
            let removed = diff.lines().filter(|l| l.starts_with('-') && !l.starts_with("---")).count();
            let small = added + removed <= 6;
            format!(
                "demo reviewer (deterministic, not an AI): the diff changes {added} line(s) in and {removed} out; {}.\nVERDICT: {}",
                if small { "small and single-purpose" } else { "too broad for one change" },
                if small { "APPROVE" } else { "REJECT" }
            )
        }
        "review-enthusiast" => "1. The changed line may hide another error on the same line.".into(),
        "review-adversary" => "1. disproved: the checks ran on the merged result and got no worse.".into(),
        "standup-report" => {
            let kept = prompt.matches("kept").count();
            format!("{who}: my record shows {kept} mention(s) of kept cycles since the last meeting. Nothing is stuck; I need nothing.")
        }
        "standup-respond" => format!("{who}: I read the reports; no overlap with my files."),
        "standup-commit" => format!(
            "TASK: {who}: add a regression line for the last fixed calc file\nPROPOSAL: review branches in the order they arrived to avoid conflicts"
        ),
        "standup" => "Priorities: review the oldest branches first.\nBlockers: none reported.".into(),
        "doctor" => format!("For {who}: keep each change to one line of one .calc file."),
        "skill" => "SKILL: Fix one calc line at a time\nWHEN: a .calc file reports errors\nTECHNIQUE:\nChange a single line so that the operation and its expected result agree; run the checks; commit.".into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::answer;
    use crate::jobs::review::parse_verdict;
    use crate::jobs::skills::note;
    use crate::jobs::standup::transcript::parse_commitment;

    #[test]
    fn the_demo_answers_in_the_formats_the_jobs_read() {
        let small = "figures\n- type check: 3 errors\n```diff\n-ad 4 4 = 8\n+add 4 4 = 8\n```\n";
        let v = answer("review", small, None).expect("review");
        assert_eq!(parse_verdict(&v).0, "approve");
        let big = format!("```diff\n{}```\n", "+x\n".repeat(10));
        assert_eq!(
            parse_verdict(&answer("review-referee", &big, None).expect("referee")).0,
            "reject"
        );
        let c = parse_commitment(&answer("standup-commit", "", Some("s2")).expect("commit"));
        assert!(c.task.is_some_and(|t| t.contains("s2")) && c.proposal.is_some());
        let notes = note::parse(&answer("skill", "", None).expect("skill"));
        assert_eq!(notes.notes.len(), 1, "{:?}", notes.problems);
        assert!(answer("ralph", "", None).is_none());
    }
}
