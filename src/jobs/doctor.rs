//! (being written)

use serde_json::Value;

use super::{Ctx, JobError};

pub fn run(_ctx: &mut Ctx) -> Result<Value, JobError> {
    Err(JobError::Failed("the doctor job is not built yet".into()))
}
