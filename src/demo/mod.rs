pub mod agent;
pub mod repo;
