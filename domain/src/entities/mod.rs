//! sea-orm entities, one file per table. Never API payloads: each API crate
//! owns its request and response types.

pub mod activity;
pub mod delivery;
pub mod login_attempt;
pub mod performance_goal;
pub mod plan_point_award;
pub mod practice;
pub mod recovery_code;
pub mod session;
pub mod staff_user;
