//! Staff: their accounts, sessions and two-factor login, and the one check
//! of what a staff member may do (with the manager override).

pub mod access;
pub mod accounts;
pub mod sessions;
pub mod two_factor;
