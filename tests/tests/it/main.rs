//! Black-box tests of the real server over HTTP and in a browser. One test
//! binary, so the workspace links it once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agreement;
mod auth;
mod browser;
mod bus;
mod campaigns;
mod chat;
mod clients;
mod dunning;
mod email;
mod errors;
mod generated_clients;
mod health;
mod household;
mod live;
mod outbox;
mod payments;
mod performance;
mod pictures;
mod plan_agreements;
mod plan_lifecycle;
mod plan_properties;
mod plan_renewals;
mod plans;
mod push;
mod security;
mod shutdown;
mod startup;
mod storage;
mod sync;
mod texts;
mod trust;
mod two_factor;
