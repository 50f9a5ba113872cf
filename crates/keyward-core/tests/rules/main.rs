//! Each rule of the register, one test each, in one module per procedure (as `src/register/`).

#[path = "../common/mod.rs"]
mod common;

mod audits;
mod checks;
mod fold;
mod forgiving;
mod keys;
mod loans;
mod lockers;
mod locks;
mod lost;
mod master;
mod orders;
mod people;
mod policies;
mod search;
mod unsynced;
