pub mod agent;
mod calc;
mod repair;
pub mod repo;
pub mod roles;
