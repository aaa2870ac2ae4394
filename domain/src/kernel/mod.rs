//! The bottom layer: values every feature shares and pure helpers with no
//! database behind them.

pub mod caller;
pub mod cards;
pub mod error;
pub mod exports;
pub mod images;
pub mod paging;
pub mod passwords;
pub mod permissions;
pub mod practice;
pub mod text;
pub mod throttle;
pub mod tokens;
